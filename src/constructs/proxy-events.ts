import { Construct } from "constructs";
import { dockerMetrics, type MetricsScrape } from "./metrics-scrape";
import { DockerProxyEvents } from "../docker/proxy-events";
import { KubernetesProxyEvents } from "../kubernetes/proxy-events";
import { VAULT_AGENT_APPROLE_FILES } from "../docker/vault-agent";
import { FirewallSpecError } from "../model/errors";
import { AgentPlatform } from "../model/types";
import { planOf } from "../plan/firewall-spec";
import { vaultWebhookSecrets, webhookDeliveryProblems } from "../plan/webhook-delivery";
import { VaultAgentConfig } from "../render/vault-agent-config";
import type { IKeyGrantee, KeyGrant } from "./key-grantee";
import type { ScopedAgentKeys } from "./scoped-agent-keys";
import { proxyEventsPortProblems } from "../plan/proxy-events-plan";
import type { EgressProxy } from "./egress-proxy";
import type { GatewayBundle } from "./gateway-bundle";
import { platformPart } from "./platform-part";
import type { ToolGateway } from "./tool-gateway";

/** Properties of `ProxyEvents`. */
export interface ProxyEventsProps {
  /** The egress proxy whose event log is followed. */
  readonly proxy: EgressProxy;
  /**
   * The firewall's tool gateway: proxy-events counts in its Redis (unless that Redis needs a login).
   * @default - a bundled Redis of proxy-events' own
   */
  readonly gateway?: ToolGateway;
  /**
   * The program (the gateway bundle holds every `rapidclaw` command); not read with
   * `gateway.image`, which holds it.
   * @default GatewayBundle.packaged() - the bundle this package ships
   */
  readonly bundle?: GatewayBundle;
  /**
   * Docker: the monitoring network proxy-events joins, serving `/metrics` there instead of on its
   * loopback. (On Kubernetes `MetricsScrape` opens the port by a policy of its own.)
   * @default - `/metrics` on the loopback only
   */
  readonly metricsScrape?: MetricsScrape;
  /**
   * The tool keys' mount and auth backend: on Docker, with webhooks given as `vaultSecret`,
   * proxy-events is granted `read` on exactly those secrets, which its own Vault Agent renders.
   * @default - none: needed only with `vaultSecret` webhooks
   */
  readonly keys?: ScopedAgentKeys;
}

/**
 * `rapidclaw proxy-events` beside the egress proxy: it follows the proxy's event log (one JSON
 * line per decision) into the firewall's alert windows in Redis, so `network_blocked` alerts to
 * the monitoring webhooks and shows on its /metrics. Docker: a container mounting the proxy's
 * log volume; Kubernetes: a sidecar it adds to each proxy pod, on the pod's log volume.
 */
export class ProxyEvents extends Construct implements IKeyGrantee {
  /** Name of its Vault policy and login role, `<firewall>-proxy-events`. */
  public readonly keyGranteeName: string;
  /** Its grant of the webhooks given as `vaultSecret` (Docker); undefined without them. */
  public readonly keyGrant?: KeyGrant;
  /** The Vault Agent configuration rendering those webhooks; undefined without them. */
  public readonly vaultAgentConfig?: string;
  private readonly dockerEvents?: DockerProxyEvents;
  private readonly kubernetesEvents?: KubernetesProxyEvents;

  constructor(scope: Construct, id: string, props: ProxyEventsProps) {
    const spec = props.proxy.spec;
    const plan = planOf(spec);
    if (plan.proxyEvents === undefined) throw new Error(`ProxyEvents "${id}": the firewall plans no proxy-events`);
    const webhookSecrets = plan.platform === AgentPlatform.DOCKER ? vaultWebhookSecrets(plan.monitoring.webhooks) : [];
    const problems = [...webhookDeliveryProblems(plan), ...proxyEventsPortProblems(plan)];
    if (webhookSecrets.length > 0 && props.keys === undefined) problems.push({ path: "monitoring.webhooks", message: "proxy-events reads webhooks from Vault (vaultSecret) and needs a grant; give keys: the firewall's ScopedAgentKeys" });
    if (problems.length > 0) throw new FirewallSpecError(problems, `ProxyEvents "${id}"`);
    super(scope, id);
    this.keyGranteeName = plan.proxyEvents.name;
    if (plan.platform === AgentPlatform.KUBERNETES) {
      const proxy = props.proxy.kubernetes;
      this.kubernetesEvents = new KubernetesProxyEvents(this, "kubernetes", { spec, proxy, namespaceName: proxy.deployment.metadata.namespace, bundle: props.bundle });
      return;
    }
    const keys = props.keys as ScopedAgentKeys;
    if (webhookSecrets.length > 0) {
      this.keyGrant = keys.grantRead(this, [], { secrets: webhookSecrets.map((hook) => hook.secretName) });
      this.vaultAgentConfig = VaultAgentConfig.render({ vaultAddress: plan.vault.address as string, authPath: plan.vault.authPath, appRole: VAULT_AGENT_APPROLE_FILES, mountPath: plan.vault.mountPath, secrets: [], webhooks: webhookSecrets });
    }
    const sharesGatewayVault = plan.proxyEvents.docker?.vaultNetwork.sharesGatewayNetwork === true;
    this.dockerEvents = new DockerProxyEvents(this, "docker", {
      spec,
      proxyContainer: props.proxy.docker.container,
      bundle: props.bundle,
      gatewayRedisNetwork: plan.proxyEvents.docker?.sharesGatewayNetwork ? props.gateway?.docker.redisNetwork : undefined,
      metrics: dockerMetrics(props.metricsScrape, "proxyEvents"),
      webhookVault: this.keyGrant === undefined ? undefined : { grant: this.keyGrant, authPath: keys.authPath, config: this.vaultAgentConfig as string },
      gatewayVaultNetwork: this.keyGrant !== undefined && sharesGatewayVault ? props.gateway?.docker.vaultNetwork : undefined,
      // By name: the proxy container, which proxy-events already follows, is created after the network.
      webhookEgressNetworkName: plan.monitoring.webhooks.length > 0 ? plan.names.egressNetwork : undefined,
    });
  }

  /** Kubernetes: the sidecar added to the proxy's pods, the windows' Redis (when bundled) and the proxy pods' egress to it. */
  public get kubernetes(): KubernetesProxyEvents {
    return platformPart(this.kubernetesEvents, "kubernetes", AgentPlatform.KUBERNETES);
  }

  /** Docker: the proxy-events container, its Redis network and, when bundled, its Redis. */
  public get docker(): DockerProxyEvents {
    return platformPart(this.dockerEvents, "docker", AgentPlatform.DOCKER);
  }
}
