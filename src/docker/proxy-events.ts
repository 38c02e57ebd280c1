import type { Container, ContainerMounts } from "@cdktf/provider-docker/lib/container";
import type { Network as DockerNetwork } from "@cdktf/provider-docker/lib/network";
import { Construct } from "constructs";
import { GatewayBundle } from "../constructs/gateway-bundle";
import { DEFAULTS } from "../model/defaults";
import type { FirewallSpec } from "../plan/firewall-spec";
import { planOf } from "../plan/firewall-spec";
import { dockerLabels, workloadLabels } from "../terraform/labels";
import { bundledRedisContainer } from "./bundled-redis";
import { gatewayDockerNetwork } from "./gateway-network";
import { hardened } from "./hardening";
import { bundleUpload } from "./bundle-upload";
import { dockerUploads, withMounts } from "./uploads";
import { dockerClasses } from "./provider-classes";
import type { DockerMetricsAttachment } from "../constructs/metrics-scrape";
import type { KeyGrant } from "../constructs/key-grantee";
import { GATEWAY_PATHS } from "../plan/gateway-plan";
import { WEBHOOK_SECRETS_ROOT } from "../plan/webhook-delivery";
import { dockerVaultAgent } from "./vault-agent";
import type { ApproleAuthBackendRole } from "@cdktf/provider-vault/lib/approle-auth-backend-role";
import type { Volume } from "@cdktf/provider-docker/lib/volume";

/** Properties of `DockerProxyEvents`. */
export interface DockerProxyEventsProps {
  /** The firewall. */
  readonly spec: FirewallSpec;
  /** The proxy container, whose log volume proxy-events mounts read-only. */
  readonly proxyContainer: Container;
  /**
   * The program the Node image runs (the gateway bundle holds every `rapidclaw` command); not
   * read with `gateway.image`, which holds it.
   * @default GatewayBundle.packaged() - the bundle this package ships
   */
  readonly bundle?: GatewayBundle;
  /**
   * The gateway's Redis network, when proxy-events shares the gateway's Redis.
   * @default - a network and Redis of its own
   */
  readonly gatewayRedisNetwork?: DockerNetwork;
  /**
   * The monitoring network and proxy-events' address on it, where `/metrics` then listens.
   * @default - `/metrics` on the loopback only
   */
  readonly metrics?: DockerMetricsAttachment;
  /**
   * Webhooks given as `vaultSecret`: the grant of exactly those secrets, the AppRole backend its
   * Vault Agent logs in with, and that agent's configuration. Needed when the firewall has them.
   * @default - no Vault Agent: proxy-events reads nothing from Vault
   */
  readonly webhookVault?: DockerEvaluatorVault;
  /**
   * The gateway's Vault network, which proxy-events' Vault Agent joins when the firewall has a gateway.
   * @default - a Vault network of its own, `<firewall>-events-vault`
   */
  readonly gatewayVaultNetwork?: DockerNetwork;
  /**
   * The proxy's egress network, proxy-events' way out to the alert webhooks. Needed when the firewall has webhooks.
   * @default - no way out
   */
  readonly webhookEgressNetworkName?: string;
}

/** How an evaluator's Vault Agent logs in and what it renders. */
export interface DockerEvaluatorVault {
  /** The grant whose policy the login carries. */
  readonly grant: KeyGrant;
  /** Path of the AppRole backend (a reference when created in the stack). */
  readonly authPath: string;
  /** The Vault Agent configuration (AppRole auto-auth from `VAULT_AGENT_APPROLE_FILES`). */
  readonly config: string;
}

/**
 * Docker part of ProxyEvents: `rapidclaw proxy-events` in the gateway's image (the stock Node
 * image with the bundle uploaded from the stack's file asset, or `gateway.image`), reading the
 * proxy's event log from the proxy's own log volume (read-only), counting `network_blocked` in Redis
 * windows: the gateway's (on the gateway's Redis network) or a bundled one on a network of their
 * own. It joins no agent network. With webhooks given as `vaultSecret`, a Vault Agent of its own
 * renders them into a memory-backed volume it mounts read-only at /run/rapidclaw/webhooks, and it
 * joins the proxy's egress network to post them; otherwise it has no way out. Hardened like the gateway.
 */
export class DockerProxyEvents extends Construct {
  /** The proxy-events container. */
  public readonly container: Container;
  /** The network proxy-events reaches Redis on (its own, or the gateway's). */
  public readonly redisNetwork: DockerNetwork;
  /** The bundled Redis, when the firewall has no gateway Redis to share. */
  public readonly redisContainer?: Container;
  /** The network its Vault Agent reaches Vault on (the gateway's, or its own), with `vaultSecret` webhooks. */
  public readonly vaultNetwork?: DockerNetwork;
  /** The Vault Agent rendering the webhooks, with `vaultSecret` webhooks. */
  public readonly vaultAgentContainer?: Container;
  /** The memory-backed volume the webhooks are rendered into. */
  public readonly webhookVolume?: Volume;
  /** Its AppRole login (bound to the Vault network's subnet). */
  public readonly appRole?: ApproleAuthBackendRole;
  /**
   * The volume holding the SecretID its Vault Agent logs in with, `<proxy-events>-approle`: write
   * one (`vault write -f auth/<authPath>/role/<proxy-events>/secret-id`) into its `secret-id` file.
   */
  public readonly secretIdVolume?: Volume;

  constructor(scope: Construct, id: string, props: DockerProxyEventsProps) {
    super(scope, id);
    const plan = planOf(props.spec);
    const events = plan.proxyEvents;
    const docker = events?.docker;
    if (events === undefined || docker === undefined) throw new Error(`DockerProxyEvents "${id}": the firewall's platform is ${plan.platform}`);
    const firewall = plan.names.firewall;
    if (docker.sharesGatewayNetwork) {
      if (props.gatewayRedisNetwork === undefined) throw new Error(`DockerProxyEvents "${id}": proxy-events shares the gateway's Redis; give gatewayRedisNetwork: gateway.docker.redisNetwork`);
      this.redisNetwork = props.gatewayRedisNetwork;
    } else {
      this.redisNetwork = gatewayDockerNetwork(this, "redis-network", { networkName: docker.networkName, subnet: docker.subnet, gateway: docker.gateway, toolGatewayAddress: docker.proxyEventsAddress }, firewall, "proxy-events-network");
      this.redisContainer = bundledRedisContainer(this, "redis", { name: events.redis.name, address: docker.redisAddress as string, network: this.redisNetwork.name, firewall, component: "proxy-events-redis" });
    }
    const vaultMounts: ContainerMounts[] = [];
    if (props.webhookVault !== undefined) {
      const vault = docker.vaultNetwork;
      if (vault.sharesGatewayNetwork && props.gatewayVaultNetwork === undefined) throw new Error(`DockerProxyEvents "${id}": its Vault Agent shares the gateway's Vault network; give gatewayVaultNetwork: gateway.docker.vaultNetwork`);
      this.vaultNetwork = props.gatewayVaultNetwork ?? gatewayDockerNetwork(this, "vault-network", { networkName: vault.networkName, subnet: vault.subnet, gateway: vault.gateway, toolGatewayAddress: vault.vaultAgentAddress }, firewall, "proxy-events-vault-network");
      const agent = dockerVaultAgent(this, {
        loginName: events.name,
        containerName: docker.vaultAgentName,
        user: DEFAULTS.proxyEventsUser,
        authPath: props.webhookVault.authPath,
        policyName: props.webhookVault.grant.policy.name,
        tokenTtlSeconds: plan.vault.tokenTtlSeconds,
        network: { name: this.vaultNetwork.name, subnet: vault.subnet },
        address: vault.vaultAgentAddress,
        config: { path: GATEWAY_PATHS.vaultAgentConfig, content: props.webhookVault.config },
        volumes: [{ id: "webhooks", target: WEBHOOK_SECRETS_ROOT }],
        firewall,
        component: "proxy-events",
      });
      this.vaultAgentContainer = agent.container;
      this.webhookVolume = agent.volumes.webhooks.volume;
      vaultMounts.push(agent.volumes.webhooks.mount);
      this.appRole = agent.appRole;
      this.secretIdVolume = agent.secretIdVolume;
    }
    const image = new dockerClasses.Image(this, "image", { name: events.image, keepLocally: true });
    const uploads = dockerUploads([{ path: events.configPath, content: events.configJson }], "0444", true, events.imageHoldsBundle ? [] : [bundleUpload(this, props.bundle ?? GatewayBundle.packaged(), events.bundlePath, "0444")]);
    this.container = new dockerClasses.Container(this, "container", {
      name: events.name,
      image: image.imageId,
      // The proxy's group: Squid writes its log 0640.
      user: DEFAULTS.proxyEventsUser,
      entrypoint: [
        "node", events.bundlePath, "proxy-events", "--config", events.configPath, "--log", events.logFile, "--redis", events.redis.url,
        // Admin (/metrics, /healthz, /readyz) on loopback, like the gateway's.
        "--admin-host", props.metrics?.address ?? "127.0.0.1", "--admin-port", String(events.adminPort),
      ],
      networksAdvanced: [
        { name: this.redisNetwork.name, ipv4Address: docker.proxyEventsAddress },
        ...(props.metrics ? [{ name: props.metrics.network.name, ipv4Address: props.metrics.address }] : []),
        ...(props.webhookEgressNetworkName === undefined ? [] : [{ name: props.webhookEgressNetworkName }]),
      ],
      ...hardened(DEFAULTS.gateway.limits.proxyEvents),
      ...withMounts(uploads, vaultMounts),
      // The proxy's volumes, its log directory among them, read-only.
      volumes: [{ fromContainer: props.proxyContainer.name, readOnly: true }],
      tmpfs: { "/tmp": "rw,noexec,nosuid,size=1m" },
      labels: dockerLabels(workloadLabels(firewall, "proxy-events")),
    });
  }
}
