import type { Container, ContainerMounts } from "@cdktf/provider-docker/lib/container";
import type { Image } from "@cdktf/provider-docker/lib/image";
import type { Network as DockerNetwork } from "@cdktf/provider-docker/lib/network";
import type { Volume } from "@cdktf/provider-docker/lib/volume";
import type { ApproleAuthBackendRole } from "@cdktf/provider-vault/lib/approle-auth-backend-role";
import { Construct } from "constructs";
import type { IAgentNetwork } from "../constructs/agent-network";
import { GatewayBundle } from "../constructs/gateway-bundle";
import type { KeyGrant } from "../constructs/key-grantee";
import { DEFAULTS } from "../model/defaults";
import { planOf } from "../plan/firewall-spec";
import { missingGrant, redisCredentialsArgs, type PlannedGateway, type PlannedGatewayDocker } from "../plan/gateway-plan";
import { SHUTDOWN, STOP_TIMEOUT_SEC } from "../plan/shutdown";
import { dockerLabels, workloadLabels } from "../terraform/labels";
import { gatewayDockerNetwork } from "./gateway-network";
import { bundledRedisContainer } from "./bundled-redis";
import { hardened } from "./hardening";
import { bundleUpload } from "./bundle-upload";
import { dockerUploads, withMounts } from "./uploads";
import { dockerClasses } from "./provider-classes";
import type { DockerMetricsAttachment } from "../constructs/metrics-scrape";
import { WEBHOOK_SECRETS_ROOT } from "../plan/webhook-delivery";
import { dockerVaultAgent, type RenderedVolume } from "./vault-agent";

/** Properties of `DockerToolGateway`. */
export interface DockerToolGatewayProps {
  /** The network whose role networks the gateway joins; the gateway is its firewall's. */
  readonly network: IAgentNetwork;
  /**
   * The proxy's listener the gateway reaches its upstreams through (RAPIDCLAW_UPSTREAM_PROXY).
   * @default - none: the gateway fronts no upstream
   */
  readonly upstreamProxyUrl?: string;
  /**
   * The gateway program the Node image runs (not read with `gateway.image`, which holds it).
   * @default GatewayBundle.packaged() - the bundle this package ships
   */
  readonly bundle?: GatewayBundle;
  /** Path of the AppRole backend the gateway's Vault Agent logs in with (a reference when created in the stack). */
  readonly authPath: string;
  /**
   * The gateway's key grant: with it a Vault Agent renders exactly those keys (and the Redis login
   * of `gateway.redis.credentialsSecret`, and the webhooks given as `vaultSecret`) for the gateway.
   * Needed when the gateway reads any of them.
   * @default - the gateway reads nothing from Vault: no Vault Agent, no login
   */
  readonly grant?: KeyGrant;
  /**
   * The Vault Agent configuration (AppRole auto-auth from `VAULT_AGENT_APPROLE_FILES`), with `grant`.
   * @default - none
   */
  readonly vaultAgentConfig?: string;
  /**
   * The monitoring network and the gateway's address on it, where `/metrics` then listens.
   * @default - `/metrics` on the loopback only: no agent reads other roles' counters
   */
  readonly metrics?: DockerMetricsAttachment;
  /**
   * The proxy's egress network, the gateway's way out to the alert webhooks (their hosts are
   * secrets in Vault, so the proxy cannot list them). Needed when the firewall has webhooks.
   * @default - no way out but the proxy's `tool_gateway` listener
   */
  readonly webhookEgressNetworkName?: string;
}

/**
 * Docker part of ToolGateway: the gateway container (a stock Node image running the bundle
 * uploaded from the stack's file asset, or `gateway.image`, which holds it) at the third address
 * of every role's network, where each role's listener binds; its way out only through the
 * proxy's `tool_gateway` listener; a bundled Redis on a network only the
 * gateway joins; when it holds keys or reads webhooks from Vault, a Vault Agent rendering them into
 * memory-backed volumes the gateway mounts read-only; and with webhooks, the proxy's egress network
 * to post them. Every container runs as a non-root user with no
 * capabilities, a read-only root, and memory, CPU, process and log limits.
 */
export class DockerToolGateway extends Construct {
  /** The gateway container. */
  public readonly container: Container;
  /** The gateway's image: the stock Node image, or `gateway.image`. */
  public readonly image: Image;
  /** The network between the gateway and its Redis (the bundled one, or one you attach). */
  public readonly redisNetwork: DockerNetwork;
  /** The bundled Redis container; undefined with `gateway.redis`. */
  public readonly redisContainer?: Container;
  /** The network between the gateway's Vault Agent and Vault (attach Vault to it), when the gateway holds keys. */
  public readonly vaultNetwork?: DockerNetwork;
  /** The Vault Agent container, when the gateway holds keys. */
  public readonly vaultAgentContainer?: Container;
  /** The memory-backed volume the keys are rendered into, when the gateway holds keys. */
  public readonly keyVolume?: Volume;
  /** The memory-backed volume the webhooks given as `vaultSecret` are rendered into, at /run/rapidclaw/webhooks. */
  public readonly webhookVolume?: Volume;
  /** The gateway's AppRole login, when it holds keys (bound to the Vault network's subnet). */
  public readonly appRole?: ApproleAuthBackendRole;
  /**
   * The volume holding the SecretID the Vault Agent logs in with, `<gateway>-approle`: write one
   * (`vault write -f auth/<authPath>/role/<gateway>/secret-id`) into its `secret-id` file.
   */
  public readonly secretIdVolume?: Volume;

  constructor(scope: Construct, id: string, props: DockerToolGatewayProps) {
    const plan = planOf(props.network.spec);
    const gateway = plan.gateway as PlannedGateway;
    if (gateway.readsVault && props.grant === undefined) throw new Error(`DockerToolGateway "${id}": ${missingGrant(gateway)}`);
    super(scope, id);
    const docker = gateway.docker as PlannedGatewayDocker;
    this.redisNetwork = gatewayDockerNetwork(this, "redis-network", docker.redisNetwork, plan.names.firewall, "gateway-redis-network");
    if (gateway.redis.bundled) {
      this.redisContainer = bundledRedisContainer(this, "redis", {
        name: gateway.redis.name,
        address: docker.redisNetwork.peerAddress as string,
        network: this.redisNetwork.name,
        firewall: plan.names.firewall,
        component: "tool-gateway-redis",
      });
    }
    const mounts: ContainerMounts[] = [];
    if (props.grant !== undefined) {
      this.vaultNetwork = gatewayDockerNetwork(this, "vault-network", docker.vaultNetwork, plan.names.firewall, "gateway-vault-network");
      const rendered: RenderedVolume[] = [
        ...(gateway.custodyTools.length > 0 || gateway.redis.credentialsSecret !== undefined ? [{ id: "keys", target: gateway.paths.keyDir }] : []),
        ...(gateway.webhookSecrets.length > 0 ? [{ id: "webhooks", target: WEBHOOK_SECRETS_ROOT }] : []),
      ];
      const agent = dockerVaultAgent(this, {
        loginName: gateway.name,
        containerName: docker.vaultAgentName,
        user: DEFAULTS.gateway.user,
        authPath: props.authPath,
        policyName: props.grant.policy.name,
        tokenTtlSeconds: plan.vault.tokenTtlSeconds,
        network: { name: this.vaultNetwork.name, subnet: docker.vaultNetwork.subnet },
        address: docker.vaultNetwork.toolGatewayAddress,
        config: { path: gateway.paths.vaultAgentConfig, content: props.vaultAgentConfig as string },
        volumes: rendered,
        firewall: plan.names.firewall,
        component: "tool-gateway",
      });
      this.keyVolume = agent.volumes.keys?.volume;
      this.webhookVolume = agent.volumes.webhooks?.volume;
      this.appRole = agent.appRole;
      this.secretIdVolume = agent.secretIdVolume;
      this.vaultAgentContainer = agent.container;
      mounts.push(...Object.values(agent.volumes).map((v) => v.mount));
    }
    this.image = new dockerClasses.Image(this, "image", { name: gateway.image, keepLocally: true });
    const roleNetworks = props.network.roleNetworkNames;
    const env = [`RAPIDCLAW_REDIS_URL=${gateway.redis.url}`];
    if (props.upstreamProxyUrl !== undefined) env.push(`RAPIDCLAW_UPSTREAM_PROXY=${props.upstreamProxyUrl}`);
    this.container = new dockerClasses.Container(this, "container", {
      name: gateway.name,
      image: this.image.imageId,
      user: DEFAULTS.gateway.user,
      // Admin (/metrics, /healthz, /readyz) on loopback: no agent reads other roles' counters.
      entrypoint: ["node", gateway.paths.bundle, "gateway", "--config", gateway.paths.config, "--key-dir", gateway.paths.keyDir, ...redisCredentialsArgs(gateway), "--admin-host", props.metrics?.address ?? "127.0.0.1", "--admin-port", String(gateway.adminPort), "--drain-timeout-sec", String(SHUTDOWN.drainTimeoutSec)],
      env,
      // Stopped with SIGTERM, and killed only after the drain: calls in flight finish, on `docker stop` and on replacement alike.
      stopSignal: "SIGTERM",
      stopTimeout: STOP_TIMEOUT_SEC,
      destroyGraceSeconds: STOP_TIMEOUT_SEC,
      networksAdvanced: [
        ...gateway.roles.map((role) => ({ name: roleNetworks[role.role], ipv4Address: role.address })),
        { name: props.network.gatewayEgressNetworkName, ipv4Address: docker.egressNetwork.toolGatewayAddress },
        { name: this.redisNetwork.name, ipv4Address: docker.redisNetwork.toolGatewayAddress },
        ...(props.metrics ? [{ name: props.metrics.network.name, ipv4Address: props.metrics.address }] : []),
        ...(props.webhookEgressNetworkName === undefined ? [] : [{ name: props.webhookEgressNetworkName }]),
      ],
      ...hardened(DEFAULTS.gateway.limits.gateway),
      ...withMounts(
        // The configuration as content, like squid.conf; the bundle from the stack's asset by path and
        // hash (not in the JSON), or none with `gateway.image`, whose image holds it.
        dockerUploads([{ path: gateway.paths.config, content: gateway.configJson }], "0444", true, gateway.imageHoldsBundle ? [] : [bundleUpload(this, props.bundle ?? GatewayBundle.packaged(), gateway.paths.bundle, "0444")]),
        mounts,
      ),
      tmpfs: { "/tmp": "rw,noexec,nosuid,size=16m" },
      labels: dockerLabels(workloadLabels(plan.names.firewall, "tool-gateway")),
    });
  }
}
