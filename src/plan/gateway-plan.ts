import { ipv4ToText } from "../model/addresses";
import { DEFAULTS } from "../model/defaults";
import { gatewayNetworksLayout, type GatewayNetworkLayout } from "../model/docker-subnets";
import { byString } from "../model/order";
import type { FirewallModel } from "../model/firewall-model";
import { AgentPlatform, KeyDelivery, type GatewayListenerProps } from "../model/types";
import { canonicalJson } from "../render/canonical-json";
import { deployedDescription } from "./deployed-description";
import { vaultWebhookSecrets, type VaultWebhookSecret } from "./webhook-delivery";
import type { FirewallPlan } from "./plan";

/** One role as the deployed gateway serves it. */
export interface PlannedGatewayRole {
  readonly role: string;
  /** Kubernetes: `gateway.port + slot` (the role's own Service port); Docker: `gateway.port`, on the role's own address. */
  readonly port: number;
  /** The role's slot (its port offset on Kubernetes, see `PlannedRole.slot`). */
  readonly slot: number;
  /** Docker: the gateway's address on the role's own network, subnet base + 3. */
  readonly address?: string;
  /** What the role's agents use: Docker `http://<address>:<port>`; Kubernetes `http://<gateway name>.<namespace>.svc:<port>`. */
  readonly url: string;
}

/** The Redis of the gateway's rate limits. */
export interface PlannedGatewayRedis {
  /** True when the firewall brings its own Redis (no `gateway.redis`). */
  readonly bundled: boolean;
  /** Bundled: `<firewall>-gateway-redis` (container; Deployment and Service). */
  readonly name: string;
  /** Bundled: the pinned Redis image. */
  readonly image: string;
  /** What the gateway connects to: bundled, the container's address on the Redis network (Docker) or `redis://<name>:6379` (Kubernetes); else `gateway.redis.url`. */
  readonly url: string;
  /** Existing Redis: the KV v2 secret (in the firewall's mount) with its `username` and `password`. */
  readonly credentialsSecret?: string;
}

/** Docker: one of the gateway's own `internal` networks. */
export interface PlannedGatewayNetwork {
  /** Docker network name. */
  readonly networkName: string;
  readonly subnet: string;
  /** Reserved by the engine's IPAM; not assigned to the bridge. */
  readonly gateway: string;
  /** The gateway's address (on the Vault network: its Vault Agent's). */
  readonly toolGatewayAddress: string;
  /** The other end: the proxy's gateway listener, or the bundled Redis; none on the Vault network. */
  readonly peerAddress?: string;
}

/** Docker: where the gateway's own networks are and how it leaves through the proxy. */
export interface PlannedGatewayDocker {
  /** `<firewall>-gateway-egress`: the gateway and the proxy's `tool_gateway` listener. */
  readonly egressNetwork: PlannedGatewayNetwork;
  /** `<firewall>-gateway-limits`: the gateway and its bundled Redis, nothing else. */
  readonly redisNetwork: PlannedGatewayNetwork;
  /** `<firewall>-gateway-vault`: the gateway's Vault Agent, and whatever Vault the operator attaches. */
  readonly vaultNetwork: PlannedGatewayNetwork;
  /** The proxy's listener for the gateway, `http://<proxy address on the egress network>:<port>` (RAPIDCLAW_UPSTREAM_PROXY). */
  readonly upstreamProxyUrl: string;
  /** Port of that listener. */
  readonly upstreamProxyPort: number;
  /** Name of the gateway's Vault Agent container, `<firewall>-tool-gateway-vault-agent`. */
  readonly vaultAgentName: string;
}

/** Where the gateway finds its files, in its container. */
export interface PlannedGatewayPaths {
  /** The firewall file it loads (`--config`). */
  readonly config: string;
  /** The directory Vault Agent renders keys into (`--key-dir`). */
  readonly keyDir: string;
  /** The one-file gateway bundle. */
  readonly bundle: string;
  /** Vault Agent's configuration. */
  readonly vaultAgentConfig: string;
  /**
   * The Redis login Vault Agent renders from `gateway.redis.credentialsSecret` (`--redis-credentials-file`):
   * in the key directory, whose volume both share; the dot keeps it apart from every key file (tool names have none).
   */
  readonly redisCredentials: string;
}

/** The tool gateway as the firewall deploys it. */
export interface PlannedGateway {
  /** `<firewall>-tool-gateway`: Docker container; Kubernetes Deployment, Service, ServiceAccount, PDB, ConfigMap; Vault policy and login role. */
  readonly name: string;
  /** The image the gateway runs: `gateway.image`, else the stock Node image. */
  readonly image: string;
  /** True with `gateway.image`: the bundle is in the image, nothing delivers it. */
  readonly imageHoldsBundle: boolean;
  /** Kubernetes: replicas of the Deployment. */
  readonly replicas: number;
  /** Port of /metrics, /healthz and /readyz. */
  readonly adminPort: number;
  /** Every role, in name order. */
  readonly roles: PlannedGatewayRole[];
  /** Tools with an upstream, in name order. */
  readonly frontedTools: string[];
  /** Tools whose key only the gateway reads (`KeyDelivery.GATEWAY`), in name order. */
  readonly custodyTools: string[];
  /** True when the gateway logs in to Vault (its own Vault Agent): it holds keys, reads Redis credentials, or reads webhooks (`vaultSecret`). */
  readonly readsVault: boolean;
  /** Docker: the webhooks given as `vaultSecret`, which its Vault Agent renders under `/run/rapidclaw/webhooks`. */
  readonly webhookSecrets: VaultWebhookSecret[];
  /** Host names of the upstreams, once each, sorted. */
  readonly upstreamHosts: string[];
  readonly redis: PlannedGatewayRedis;
  readonly paths: PlannedGatewayPaths;
  /** Docker: the gateway's own networks and its way out. */
  readonly docker?: PlannedGatewayDocker;
  /** The firewall file the gateway loads: the description with the deployed `gateway.listeners`, canonical JSON (keys and set-like lists sorted). */
  readonly configJson: string;
}

/** Where the gateway's files are, in every container that runs it. */
export const GATEWAY_PATHS: PlannedGatewayPaths = {
  config: "/etc/rapidclaw/firewall.json",
  keyDir: "/run/rapidclaw/keys",
  bundle: "/opt/rapidclaw/rapidclaw-gateway.cjs",
  vaultAgentConfig: "/etc/rapidclaw/vault-agent.hcl",
  redisCredentials: "/run/rapidclaw/keys/redis-credentials.json",
};

/**
 * Lists of the description whose order means something (resolvers are tried in turn); every other
 * list is a set, sorted in the gateway's file so that the same firewall gives the same bytes.
 */
export const ORDERED_LISTS: ReadonlySet<string> = new Set(["dnsServers"]);

/** Who reads a tool's key: as given, else the gateway when the tool has an upstream. */
export function keyDeliveryOf(key: { readonly delivery?: KeyDelivery }, upstream: string | undefined): KeyDelivery {
  return key.delivery ?? (upstream === undefined ? KeyDelivery.AGENT : KeyDelivery.GATEWAY);
}

/**
 * The deployed gateway of a firewall: undefined when no tool has an upstream and `gateway` is
 * unset (nothing for a gateway to do, and the firewall synthesizes as it did before gateways).
 * `plan` is the firewall's plan without its gateway; `model` the parsed description.
 */
export function planGateway(plan: Omit<FirewallPlan, "proxyEvents">, model: FirewallModel): PlannedGateway | undefined {
  const spec = model.props;
  const upstreams = plan.tools.flatMap((tool) => (tool.upstream === undefined ? [] : [[tool.name, tool.upstream] as const]));
  if (upstreams.length === 0 && spec.gateway === undefined) return undefined;
  const firewall = plan.names.firewall;
  const name = `${firewall}-tool-gateway`;
  const options = spec.gateway ?? {};
  const firstPort = options.port ?? DEFAULTS.gateway.port;
  const docker = plan.platform === AgentPlatform.DOCKER ? planGatewayDocker(plan, model) : undefined;
  const roles: PlannedGatewayRole[] = plan.roles.map((role) => {
    const port = firstPort + role.slot;
    if (docker === undefined || role.docker === undefined) return { role: role.name, port, slot: role.slot, url: `http://${name}.${plan.namespace}.svc:${port}` };
    const address = role.docker.toolGatewayAddress;
    return { role: role.name, port, slot: role.slot, address, url: `http://${address}:${port}` };
  });
  const redisName = `${firewall}-gateway-redis`;
  const bundledUrl = docker ? `redis://${docker.redisNetwork.peerAddress}:${DEFAULTS.gateway.redisPort}` : `redis://${redisName}:${DEFAULTS.gateway.redisPort}`;
  const listeners: GatewayListenerProps[] = roles.map((r) => ({ port: r.port, address: r.address, role: r.role }));
  const custodyTools = plan.tools.filter((tool) => tool.key?.delivery === KeyDelivery.GATEWAY).map((tool) => tool.name);
  const credentialsSecret = options.redis?.credentialsSecret;
  // Kubernetes refuses vaultSecret (its evaluators mount kubernetesSecret), so only Docker's gateway reads webhooks from Vault.
  const webhookSecrets = docker === undefined ? [] : vaultWebhookSecrets(plan.monitoring.webhooks);
  return {
    name,
    image: options.image ?? DEFAULTS.gateway.image,
    imageHoldsBundle: options.image !== undefined,
    replicas: options.replicas ?? DEFAULTS.gateway.replicas,
    adminPort: DEFAULTS.gateway.adminPort,
    roles,
    frontedTools: upstreams.map(([tool]) => tool),
    custodyTools,
    readsVault: custodyTools.length > 0 || credentialsSecret !== undefined || webhookSecrets.length > 0,
    webhookSecrets,
    upstreamHosts: [...new Set(upstreams.map(([, upstream]) => new URL(upstream).hostname))].sort(byString),
    redis: {
      bundled: options.redis === undefined,
      name: redisName,
      image: DEFAULTS.gateway.redisImage,
      url: options.redis?.url ?? bundledUrl,
      credentialsSecret,
    },
    paths: GATEWAY_PATHS,
    docker,
    configJson: canonicalJson({ ...deployedDescription(spec), gateway: { ...options, listeners, sourceNetworks: undefined } }, ORDERED_LISTS),
  };
}

function planGatewayDocker(plan: Omit<FirewallPlan, "proxyEvents">, model: FirewallModel): PlannedGatewayDocker {
  const firewall = plan.names.firewall;
  const layout = gatewayNetworksLayout(model.docker.gatewaySubnet);
  const network = (suffix: string, at: GatewayNetworkLayout, peer: boolean): PlannedGatewayNetwork => ({
    networkName: `${firewall}-gateway-${suffix}`,
    subnet: at.subnet.text,
    gateway: ipv4ToText(at.gateway),
    toolGatewayAddress: ipv4ToText(at.toolGateway),
    peerAddress: peer ? ipv4ToText(at.peer) : undefined,
  });
  const egressNetwork = network("egress", layout.proxy, true);
  return {
    egressNetwork,
    redisNetwork: network("limits", layout.redis, true),
    vaultNetwork: network("vault", layout.vault, false),
    upstreamProxyUrl: `http://${egressNetwork.peerAddress}:${plan.proxy.port}`,
    upstreamProxyPort: plan.proxy.port,
    vaultAgentName: `${firewall}-tool-gateway-vault-agent`,
  };
}

/** The gateway's arguments for its Redis login file, when it reads one. */
export function redisCredentialsArgs(gateway: PlannedGateway): string[] {
  return gateway.redis.credentialsSecret === undefined ? [] : ["--redis-credentials-file", gateway.paths.redisCredentials];
}

/** Why a platform part of a gateway that reads Vault needs a grant, and the call that makes it. */
export function missingGrant(gateway: PlannedGateway): string {
  const tools = `[${gateway.custodyTools.map((t) => `"${t}"`).join(", ")}]`;
  const names = gatewayVaultSecrets(gateway);
  const secrets = names.length === 0 ? "" : `, { secrets: [${names.map((n) => `"${n}"`).join(", ")}] }`;
  const reads = [
    gateway.custodyTools.length > 0 ? `the keys of ${gateway.custodyTools.join(", ")}` : "",
    gateway.redis.credentialsSecret === undefined ? "" : "its Redis login",
    gateway.webhookSecrets.length === 0 ? "" : "the alert webhooks",
  ].filter(Boolean).join(" and ");
  return `the gateway reads ${reads} from Vault; give grant: keys.grantRead(gateway, ${tools}${secrets})`;
}

/** The secrets besides tool keys the gateway reads from the key mount: its Redis login, then its webhooks. */
export function gatewayVaultSecrets(gateway: PlannedGateway): string[] {
  return [...(gateway.redis.credentialsSecret === undefined ? [] : [gateway.redis.credentialsSecret]), ...gateway.webhookSecrets.map((hook) => hook.secretName)];
}
