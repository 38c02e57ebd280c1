import { posix } from "node:path";
import type { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { DeploymentV1SpecTemplateSpecContainer, DeploymentV1SpecTemplateSpecInitContainer, DeploymentV1SpecTemplateSpecVolume } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { Construct } from "constructs";
import type { GatewayBundle } from "../constructs/gateway-bundle";
import type { FirewallPlan } from "../plan/plan";
import type { PlannedProxyEvents } from "../plan/proxy-events-plan";
import { SHUTDOWN, TERMINATION_GRACE_PERIOD_SEC } from "../plan/shutdown";
import { COMPONENTS, workloadLabels } from "../terraform/labels";
import { terraformLiteral } from "../terraform/terraform-literal";
import { bundleConfigMaps, bundleJoin, type BundleParts } from "./bundle-parts";
import { hardenedContainerSecurityContext, sha256 } from "./pod";
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
  /** The firewall's plan; its `proxyEvents` says what runs. */
  readonly plan: FirewallPlan;
  /** The proxy's namespace. */
  readonly namespaceName: string;
  /** The program (the gateway bundle holds every `rapidclaw` command). */
  readonly bundle: GatewayBundle;
  /** The proxy pod's volume Squid writes its event log into, mounted read-only here. */
  readonly logVolume: string;
}

/**
 * Kubernetes part of ProxyEvents inside each proxy pod: `rapidclaw proxy-events` as a sidecar of
 * Squid, following the event log on the pod's shared log volume (read-only) into the alert
 * windows in Redis. Its ConfigMaps (`<firewall>-proxy-events`: the firewall file; the bundle in
 * parts) and what the proxy's pod template gets: the container, the init container joining the
 * bundle, their volumes and a checksum that rolls the pods when either changes. No readiness
 * probe: a Redis outage must not take the agents' proxy out of its Service; a liveness probe
 * restarts it instead.
 */
export class KubernetesProxyEventsSidecar extends Construct {
  /** The firewall file proxy-events loads (`firewall.json`). */
  public readonly configMap: ConfigMapV1;
  /** The bundle in parts, `<firewall>-proxy-events-bundle`, `…-bundle-1`, … */
  public readonly bundleConfigMaps: ConfigMapV1[];
  /** sha256 over the firewall file and the bundle: a pod annotation of the proxy. */
  public readonly checksum: string;
  /** The sidecar container. */
  public readonly container: DeploymentV1SpecTemplateSpecContainer;
  /** Joins the bundle's parts before the pod starts. */
  public readonly initContainer: DeploymentV1SpecTemplateSpecInitContainer;
  /** Volumes the sidecar needs beside the proxy's: the firewall file, the bundle, webhook Secrets. */
  public readonly volumes: DeploymentV1SpecTemplateSpecVolume[];
  /** Above the drain and the flush of queued deliveries, so the kubelet does not kill the sidecar early. */
  public readonly terminationGracePeriodSeconds = TERMINATION_GRACE_PERIOD_SEC;

  constructor(scope: Construct, id: string, props: KubernetesProxyEventsSidecarProps) {
    super(scope, id);
    const { plan, namespaceName: namespace } = props;
    const events = plan.proxyEvents as PlannedProxyEvents;
    const labels = workloadLabels(plan.names.firewall, COMPONENTS.egressProxy);
    const configFile = posix.basename(events.configPath);
    this.configMap = new kubernetesClasses.ConfigMapV1(this, "config", {
      metadata: { name: events.name, namespace, labels },
      data: { [configFile]: terraformLiteral(events.configJson) },
    });
    const parts: BundleParts = bundleConfigMaps(this, events.name, namespace, labels, events.bundlePath, props.bundle.text);
    this.bundleConfigMaps = parts.configMaps;
    this.checksum = sha256([events.configJson, sha256(props.bundle.text)].join("\n"));
    const join = bundleJoin(parts, events.bundlePath, events.image);
    const webhooks = webhookSecretVolumes(plan.monitoring.webhooks);
    this.initContainer = { ...join.initContainer, securityContext: sidecarSecurityContext() };
    this.volumes = [
      { name: "events-config", configMap: { name: this.configMap.metadata.name, defaultMode: "0444", items: [{ key: configFile, path: configFile }] } },
      ...join.volumes,
      ...webhooks.volumes,
    ];
    this.container = {
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
        { name: props.logVolume, mountPath: events.logDir, readOnly: true },
        { name: "events-config", mountPath: posix.dirname(events.configPath), readOnly: true },
        { name: "bundle", mountPath: posix.dirname(events.bundlePath), readOnly: true },
        ...webhooks.mounts,
      ],
    };
  }
}

/** The `proxy` group of the Squid image, which the event log (0640) belongs to. */
const PROXY_GID = 13;

/** Hardened, as its own user in the proxy's group (the pod runs as Squid's user). */
function sidecarSecurityContext() {
  return { ...hardenedContainerSecurityContext(), runAsUser: String(PROXY_EVENTS_UID), runAsGroup: String(PROXY_GID) };
}
