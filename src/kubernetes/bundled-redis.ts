import type { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import type { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import type { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { Construct } from "constructs";
import { workloadLabels } from "../terraform/labels";
import { componentSelector, firewallPolicy, tcpPorts } from "./network-policy";
import { hardenedContainerSecurityContext, hardenedPodSecurityContext, scratchVolumes } from "./pod";
import { kubernetesClasses } from "./provider-classes";

/** The `redis` user and group of the Redis image. */
export const REDIS_UID = 999;

/** Requests and limits of a bundled Redis. */
export const REDIS_RESOURCES = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "1000m", memory: "256Mi" } } as const;

/** Memory a bundled Redis may use before it refuses writes (a limiter then fails closed), below its container limit. */
const REDIS_MAX_MEMORY = "192mb";

/** What a bundled Redis is and who may reach it. */
export interface KubernetesBundledRedisProps {
  /** The firewall's name (labels). */
  readonly firewall: string;
  /** Namespace of Redis and its clients. */
  readonly namespace: string;
  /** Deployment, Service and NetworkPolicy name. */
  readonly name: string;
  /** The Redis image (7.0 or later: the limiter's scripts declare their flags). */
  readonly image: string;
  /** The port it listens and is served on. */
  readonly port: number;
  /** Its `rapidclaw.dev/component` label. */
  readonly component: string;
  /** The components of the firewall whose pods alone may connect. */
  readonly clients: string[];
}

/** The port of a Redis URL. */
export function redisPort(url: string): number {
  return Number(new URL(url).port || 6379);
}

/**
 * Redis as a Deployment of one replica without persistence (a restart forgets the windows, as a
 * restart of its clients would), its Service, and a NetworkPolicy admitting only its clients' pods
 * on its port, with no egress. Full memory refuses writes, so a limiter fails closed.
 */
export class KubernetesBundledRedis extends Construct {
  /** One replica. */
  public readonly deployment: DeploymentV1;
  /** ClusterIP Service named as the Deployment. */
  public readonly service: ServiceV1;
  /** Ingress from the clients only, no egress. */
  public readonly networkPolicy: NetworkPolicyV1;

  constructor(scope: Construct, id: string, props: KubernetesBundledRedisProps) {
    super(scope, id);
    const { firewall, namespace, name, port } = props;
    const labels = workloadLabels(firewall, props.component);
    // The image's entrypoint is bypassed, so protected mode (which refuses non-loopback clients without a password) is turned off here; the policy is the guard.
    const command = ["redis-server", "--port", String(port), "--save", "", "--appendonly", "no", "--protected-mode", "no", "--maxmemory", REDIS_MAX_MEMORY, "--maxmemory-policy", "noeviction"];
    const scratch = scratchVolumes([{ name: "data", path: "/data", sizeLimit: "16Mi" }]);
    this.deployment = new kubernetesClasses.DeploymentV1(this, "deployment", {
      metadata: { name, namespace, labels },
      spec: {
        // One: the counts live in one place.
        replicas: "1",
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: hardenedPodSecurityContext(REDIS_UID),
            container: [
              {
                name: "redis",
                image: props.image,
                command,
                port: [{ name: "redis", containerPort: port, protocol: "TCP" }],
                readinessProbe: { tcpSocket: [{ port: "redis" }], periodSeconds: 5 },
                resources: { requests: { ...REDIS_RESOURCES.requests }, limits: { ...REDIS_RESOURCES.limits } },
                securityContext: hardenedContainerSecurityContext(),
                volumeMount: scratch.mounts,
              },
            ],
            volume: scratch.volumes,
          },
        },
      },
    });
    this.service = new kubernetesClasses.ServiceV1(this, "service", {
      metadata: { name, namespace, labels },
      spec: { type: "ClusterIP", selector: labels, port: [{ name: "redis", port, targetPort: "redis", protocol: "TCP" }] },
    });
    this.networkPolicy = firewallPolicy(this, "network-policy", {
      firewall,
      namespace,
      name,
      podSelector: componentSelector(firewall, props.component),
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: props.clients.map((client) => ({ podSelector: componentSelector(firewall, client) })), ports: tcpPorts([port]) }],
    });
  }
}
