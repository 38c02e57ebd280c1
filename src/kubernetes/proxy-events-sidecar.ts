import { posix } from "node:path";
import type { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { DeploymentV1SpecTemplateSpecContainer } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { Construct } from "constructs";
import { GatewayBundle } from "../constructs/gateway-bundle";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import type { PlannedProxyEvents } from "../plan/proxy-events-plan";
import { SHUTDOWN, TERMINATION_GRACE_PERIOD_SEC } from "../plan/shutdown";
import { COMPONENTS, workloadLabels } from "../terraform/labels";
import { terraformLiteral } from "../terraform/terraform-literal";
import { bundleConfigMaps, bundleJoin, type BundleParts } from "./bundle-parts";
import { SQUID_LOG_VOLUME, type ProxyPodSidecar } from "./egress-proxy";
import { CHECKSUM_ANNOTATIONS, hardenedContainerSecurityContext, sha256 } from "./pod";
import { kubernetesClasses } from "./provider-classes";
import { webhookSecretVolumes } from "./webhook-secrets";

/** The uid of proxy-events; its group is the proxy's (13), whose 0640 event log it reads. */
export const PROXY_EVENTS_UID = 10004;

/** Requests and limits of the proxy-events sidecar: it reads lines and counts them. */
export const PROXY_EVENTS_RESOURCES = { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "250m", memory: "192Mi" } } as const;

/** Name of the sidecar's admin port (/metrics, /healthz, /readyz) on the proxy pods. */
export const PROXY_EVENTS_PORT_NAME = "events-admin";

/** Properties of `KubernetesProxyEventsSidecar`. */
export interface KubernetesProxyEventsSidecarProps {
  /** The firewall; its plan's `proxyEvents` says what runs. */
  readonly spec: FirewallSpec;
  /** The proxy's namespace. */
  readonly namespaceName: string;
  /**
   * The program (the gateway bundle holds every `rapidclaw` command); not read with
   * `gateway.image`, which holds it.
   * @default GatewayBundle.packaged() - the bundle this package ships
   */
  readonly bundle?: GatewayBundle;
}

/**
 * `rapidclaw proxy-events` as a sidecar of Squid in each proxy pod, following the event log on
 * the pod's log volume (`SQUID_LOG_VOLUME`, read-only) into the alert windows in Redis: its
 * ConfigMaps (`<firewall>-proxy-events`: the firewall file; the bundle in parts) and what the
 * proxy's pods get (`sidecar`): the container, the init container joining the bundle, their
 * volumes, a checksum that rolls the pods when either changes, and a grace period above the
 * drain. No readiness probe: a Redis outage must not take the agents' proxy out of its Service;
 * a liveness probe restarts it instead.
 */
export class KubernetesProxyEventsSidecar extends Construct {
  /** The firewall file proxy-events loads (`firewall.json`). */
  public readonly configMap: ConfigMapV1;
  /** The bundle in parts, `<firewall>-proxy-events-bundle`, `…-bundle-1`, …; none with `gateway.image`. */
  public readonly bundleConfigMaps: ConfigMapV1[];
  /** What the proxy's pods get (`KubernetesEgressProxy.addSidecar`). */
  public readonly sidecar: ProxyPodSidecar;

  constructor(scope: Construct, id: string, props: KubernetesProxyEventsSidecarProps) {
    super(scope, id);
    const plan = planOf(props.spec);
    const namespace = props.namespaceName;
    const events = plan.proxyEvents as PlannedProxyEvents;
    const labels = workloadLabels(plan.names.firewall, COMPONENTS.egressProxy);
    const configFile = posix.basename(events.configPath);
    this.configMap = new kubernetesClasses.ConfigMapV1(this, "config", {
      metadata: { name: events.name, namespace, labels },
      data: { [configFile]: terraformLiteral(events.configJson) },
    });
    const bundle = events.imageHoldsBundle ? undefined : props.bundle ?? GatewayBundle.packaged();
    const parts: BundleParts | undefined = bundle && bundleConfigMaps(this, events.name, namespace, labels, events.bundlePath, bundle);
    this.bundleConfigMaps = parts?.configMaps ?? [];
    const join = parts && bundleJoin(parts, events.bundlePath, events.image);
    const webhooks = webhookSecretVolumes(plan.monitoring.webhooks);
    const container: DeploymentV1SpecTemplateSpecContainer = {
      name: "proxy-events",
      image: events.image,
      command: [
        "node", events.bundlePath, "proxy-events", "--config", events.configPath, "--log", events.logFile, "--redis", events.redis.url,
        "--admin-port", String(events.adminPort), "--drain-timeout-sec", String(SHUTDOWN.drainTimeoutSec),
      ],
      port: [{ name: PROXY_EVENTS_PORT_NAME, containerPort: events.adminPort, protocol: "TCP" }],
      livenessProbe: { httpGet: { path: "/healthz", port: PROXY_EVENTS_PORT_NAME }, periodSeconds: 10, failureThreshold: 3 },
      resources: { requests: { ...PROXY_EVENTS_RESOURCES.requests }, limits: { ...PROXY_EVENTS_RESOURCES.limits } },
      securityContext: sidecarSecurityContext(),
      volumeMount: [
        { name: SQUID_LOG_VOLUME, mountPath: events.logDir, readOnly: true },
        { name: "events-config", mountPath: posix.dirname(events.configPath), readOnly: true },
        ...(join === undefined ? [] : [{ name: "bundle", mountPath: posix.dirname(events.bundlePath), readOnly: true }]),
        ...webhooks.mounts,
      ],
    };
    this.sidecar = {
      container,
      initContainers: join === undefined ? [] : [{ ...join.initContainer, securityContext: sidecarSecurityContext() }],
      volumes: [
        { name: "events-config", configMap: { name: this.configMap.metadata.name, defaultMode: "0444", items: [{ key: configFile, path: configFile }] } },
        ...(join?.volumes ?? []),
        ...webhooks.volumes,
      ],
      annotations: { [CHECKSUM_ANNOTATIONS.proxyEvents]: sha256([events.configJson, bundle === undefined ? "" : sha256(bundle.text)].join("\n")) },
      // Above the drain and the flush of queued deliveries, so the kubelet does not kill it early.
      terminationGracePeriodSeconds: TERMINATION_GRACE_PERIOD_SEC,
    };
  }
}

/** The `proxy` group of the Squid image, which the event log (0640) belongs to. */
const PROXY_GID = 13;

/** Hardened, as its own user in the proxy's group (the pod runs as Squid's user). */
function sidecarSecurityContext() {
  return { ...hardenedContainerSecurityContext(), runAsUser: String(PROXY_EVENTS_UID), runAsGroup: String(PROXY_GID) };
}
