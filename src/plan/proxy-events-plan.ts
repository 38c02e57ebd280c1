import { ipv4ToText } from "../model/addresses";
import { DEFAULTS } from "../model/defaults";
import { gatewayNetworksLayout } from "../model/docker-subnets";
import type { FirewallModel } from "../model/firewall-model";
import type { SpecProblem } from "../model/errors";
import { AgentPlatform } from "../model/types";
import { canonicalJson } from "../render/canonical-json";
import { deployedDescription } from "./deployed-description";
import { GATEWAY_PATHS, ORDERED_LISTS, type PlannedGateway } from "./gateway-plan";
import type { FirewallPlan } from "./plan";

/** The Redis the alert windows of proxy-events live in. */
export interface PlannedProxyEventsRedis {
  /** True when the firewall bundles one for proxy-events alone (no gateway, or a gateway Redis that needs a login). */
  readonly bundled: boolean;
  /** Bundled: `<firewall>-events-redis` (container; Deployment and Service). */
  readonly name: string;
  /** What proxy-events connects to. */
  readonly url: string;
}

/**
 * Docker: the network proxy-events reaches its Redis on: the gateway's Redis network (proxy-events
 * at its fourth address), or with a bundled Redis `<firewall>-events`, the last quarter of the
 * gateway subnet (proxy-events second, Redis third).
 */
export interface PlannedProxyEventsDocker {
  /** Docker network name. */
  readonly networkName: string;
  readonly subnet: string;
  /** Reserved by the engine's IPAM; not assigned to the bridge. */
  readonly gateway: string;
  /** proxy-events' address. */
  readonly proxyEventsAddress: string;
  /** The bundled Redis' address; none on the gateway's network (the gateway plans its Redis). */
  readonly redisAddress?: string;
  /** True when this is the gateway's Redis network rather than a network of its own. */
  readonly sharesGatewayNetwork: boolean;
  /**
   * Where proxy-events' Vault Agent logs in, when it reads webhooks from Vault: the gateway's Vault
   * network (the gateway subnet's third quarter), or `<firewall>-events-vault` on the same quarter
   * without a gateway; Vault is attached at its third address either way.
   */
  readonly vaultNetwork: PlannedProxyEventsVaultNetwork;
  /** Name of proxy-events' Vault Agent container, `<firewall>-proxy-events-vault-agent`. */
  readonly vaultAgentName: string;
}

/** Docker: the Vault network proxy-events' Vault Agent joins. */
export interface PlannedProxyEventsVaultNetwork {
  /** Docker network name. */
  readonly networkName: string;
  readonly subnet: string;
  /** Reserved by the engine's IPAM; not assigned to the bridge. */
  readonly gateway: string;
  /** The Vault Agent's address: the fourth (the gateway's Vault Agent is second, Vault third). */
  readonly vaultAgentAddress: string;
  /** True when this is the gateway's Vault network, which the gateway creates. */
  readonly sharesGatewayNetwork: boolean;
}

/** `rapidclaw proxy-events` beside each proxy replica, following its access log into the alert windows. */
export interface PlannedProxyEvents {
  /** `<firewall>-proxy-events`: Docker container; Kubernetes sidecar and ConfigMap. */
  readonly name: string;
  /** The gateway's image: the stock Node image that runs the uploaded bundle, or `gateway.image`. */
  readonly image: string;
  /** True with `gateway.image`: the bundle is in the image, nothing is uploaded. */
  readonly imageHoldsBundle: boolean;
  /** Port of /metrics, /healthz and /readyz. */
  readonly adminPort: number;
  /** The directory the proxy writes its event log into, shared with proxy-events. */
  readonly logDir: string;
  /** The log file proxy-events follows. */
  readonly logFile: string;
  /** The firewall file proxy-events loads. */
  readonly configPath: string;
  /** The one-file bundle (the gateway's). */
  readonly bundlePath: string;
  /** The firewall file as deployed: the gateway's when there is one, else the description without its allocation record. */
  readonly configJson: string;
  readonly redis: PlannedProxyEventsRedis;
  readonly docker?: PlannedProxyEventsDocker;
}

/** Where Squid writes the event log: its own log directory, owned by its user in the image. */
const LOG_DIR = "/var/log/squid";

/**
 * proxy-events of a firewall: planned whenever it is deployed, since thresholds always exist (they have defaults).
 * Its windows go to the gateway's Redis when the firewall has a gateway whose Redis needs no
 * login, else to a bundled Redis of its own, made like the gateway's.
 */
export function planProxyEvents(plan: Omit<FirewallPlan, "proxyEvents">, model: FirewallModel, gateway: PlannedGateway | undefined): PlannedProxyEvents {
  const firewall = plan.names.firewall;
  const shared = gateway !== undefined && gateway.redis.credentialsSecret === undefined ? gateway : undefined;
  const name = `${firewall}-events-redis`;
  const docker = plan.platform === AgentPlatform.DOCKER ? planDocker(model, firewall, shared, gateway) : undefined;
  const bundledUrl = `redis://${docker?.redisAddress ?? name}:${DEFAULTS.gateway.redisPort}`;
  return {
    name: `${firewall}-proxy-events`,
    image: gateway?.image ?? DEFAULTS.gateway.image,
    imageHoldsBundle: gateway?.imageHoldsBundle ?? false,
    adminPort: DEFAULTS.proxyEventsAdminPort,
    logDir: LOG_DIR,
    logFile: `${LOG_DIR}/events.log`,
    configPath: GATEWAY_PATHS.config,
    bundlePath: GATEWAY_PATHS.bundle,
    configJson: gateway?.configJson ?? canonicalJson(deployedDescription(model.props), ORDERED_LISTS),
    redis: shared ? { bundled: false, name: shared.redis.name, url: shared.redis.url } : { bundled: true, name, url: bundledUrl },
    docker,
  };
}

function planDocker(model: FirewallModel, firewall: string, shared: PlannedGateway | undefined, gateway: PlannedGateway | undefined): PlannedProxyEventsDocker {
  const layout = gatewayNetworksLayout(model.docker.gatewaySubnet);
  const vaultAgentAddress = ipv4ToText(layout.vault.peer + 1n);
  const gatewayVault = gateway?.docker?.vaultNetwork;
  const vault = {
    vaultNetwork: gatewayVault === undefined
      ? { networkName: `${firewall}-events-vault`, subnet: layout.vault.subnet.text, gateway: ipv4ToText(layout.vault.gateway), vaultAgentAddress, sharesGatewayNetwork: false }
      : { networkName: gatewayVault.networkName, subnet: gatewayVault.subnet, gateway: gatewayVault.gateway, vaultAgentAddress, sharesGatewayNetwork: true },
    vaultAgentName: `${firewall}-proxy-events-vault-agent`,
  };
  if (shared?.docker !== undefined) {
    const { networkName, subnet, gateway: reserved } = shared.docker.redisNetwork;
    return { networkName, subnet, gateway: reserved, proxyEventsAddress: ipv4ToText(layout.redis.peer + 1n), sharesGatewayNetwork: true, ...vault };
  }
  return {
    ...vault,
    networkName: `${firewall}-events`,
    subnet: layout.events.subnet.text,
    gateway: ipv4ToText(layout.events.gateway),
    proxyEventsAddress: ipv4ToText(layout.events.toolGateway),
    redisAddress: ipv4ToText(layout.events.peer),
    sharesGatewayNetwork: false,
  };
}

/**
 * Kubernetes: proxy-events' admin port is in the proxy's pods, beside Squid's role ports
 * (`proxy.port + slot`): a role port on it would leave one of the two unable to listen.
 */
export function proxyEventsPortProblems(plan: FirewallPlan): SpecProblem[] {
  const events = plan.proxyEvents;
  if (events === undefined || plan.platform !== AgentPlatform.KUBERNETES) return [];
  const clash = plan.roles.find((role) => role.proxyPort === events.adminPort);
  if (clash === undefined) return [];
  return [{ path: "proxy.port", message: `role ${clash.name}'s proxy port ${clash.proxyPort} is proxy-events' admin port in the proxy's pods; choose a proxy.port that keeps every role's port (proxy.port + slot) off ${events.adminPort}, e.g. ${DEFAULTS.proxyPort}` }];
}
