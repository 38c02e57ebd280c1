import { ipv4ToText, parseCidr, parseIpv4, type Network } from "./addresses";
import { DEFAULTS } from "./defaults";
import { defaultEgressSubnet, defaultGatewaySubnet } from "./docker-subnets";
import { parseHostPattern, type HostPattern } from "./hosts";
import type { AgentProps, FirewallSpecProps } from "./types";
import { memoryMiB, validateFirewallSpec } from "./validate";

/** An egress CIDR of a role, parsed. */
export interface ParsedEgressCidr {
  readonly network: Network;
  readonly ports: number[];
}

/** A role's host patterns and address ranges, parsed. */
export interface ParsedRoleNetwork {
  /** `allowedHosts` parsed (empty unless `allowEgress`). */
  readonly allowedHosts: HostPattern[];
  readonly egressCidrs: ParsedEgressCidr[];
}

/** An agent, its memory size and pinned address parsed. */
export interface ParsedAgent {
  readonly props: AgentProps;
  readonly memoryMiB: number;
  /** Docker: the pinned address in canonical text. */
  readonly ipv4Address?: string;
}

/**
 * A valid firewall description with every text value that has a structure parsed: host patterns,
 * networks, addresses and memory sizes, the name-dependent defaults applied. The plan compiles
 * this, never the raw text.
 */
export interface FirewallModel {
  /** The description as validated. */
  readonly props: FirewallSpecProps;
  readonly name: string;
  readonly modelHosts: HostPattern[];
  /** By role name. */
  readonly roleNetworks: ReadonlyMap<string, ParsedRoleNetwork>;
  /** `proxy.forbiddenCidrs`, parsed. */
  readonly forbiddenCidrs: Network[];
  readonly proxyMemoryMiB: number;
  /** In the order given. */
  readonly agents: ParsedAgent[];
  readonly docker: {
    readonly pool: Network;
    readonly egressSubnet: Network;
    /** The tool gateway's own networks are carved from it. */
    readonly gatewaySubnet: Network;
    readonly roleSubnetPrefix: number;
    readonly roleSubnets: ReadonlyMap<string, Network>;
  };
}

/** The parsed value; validation has refused every input for which this throws. */
function valid<T>(value: T | string | undefined, what: string): T {
  if (value === undefined || typeof value === "string") throw new Error(`internal error: ${what} passed validation but does not parse`);
  return value;
}

const network = (text: string) => valid(parseCidr(text), `network "${text}"`);
const hosts = (texts: ReadonlyArray<string>) => texts.map((text) => valid(parseHostPattern(text), `host pattern "${text}"`));
const mib = (text: string) => valid(memoryMiB(text), `memory "${text}"`);

/**
 * Validates a firewall description (throwing `FirewallSpecError` with every problem) and returns
 * it parsed.
 */
export function parseFirewallSpec(input: unknown, source?: string): FirewallModel {
  const props = validateFirewallSpec(input, source);
  const name = props.name ?? DEFAULTS.name;
  const agents = props.agents ?? [];
  return {
    props,
    name,
    modelHosts: hosts(props.modelHosts),
    roleNetworks: new Map(Object.entries(props.roles).map(([role, { network: rn }]) => [role, {
      allowedHosts: rn?.allowEgress ? hosts(rn.allowedHosts ?? []) : [],
      egressCidrs: (rn?.egressCidrs ?? []).map((c) => ({ network: network(c.cidr), ports: c.ports })),
    }])),
    forbiddenCidrs: (props.proxy?.forbiddenCidrs ?? []).map(network),
    proxyMemoryMiB: mib(props.proxy?.memory ?? DEFAULTS.proxyMemory),
    agents: agents.map((agent) => ({
      props: agent,
      memoryMiB: mib(agent.memory ?? DEFAULTS.memory),
      ipv4Address: agent.ipv4Address === undefined ? undefined : ipv4ToText(valid(parseIpv4(agent.ipv4Address), `address "${agent.ipv4Address}"`)),
    })),
    docker: {
      pool: network(props.docker?.subnet ?? DEFAULTS.agentSubnet),
      egressSubnet: network(props.docker?.egressSubnet ?? defaultEgressSubnet(name)),
      gatewaySubnet: network(props.docker?.gatewaySubnet ?? defaultGatewaySubnet(name)),
      roleSubnetPrefix: props.docker?.roleSubnetPrefix ?? DEFAULTS.roleSubnetPrefix,
      roleSubnets: new Map(Object.entries(props.docker?.roleSubnets ?? {}).map(([role, text]) => [role, network(text)])),
    },
  };
}
