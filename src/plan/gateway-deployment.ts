import { DEFAULTS } from "../model/defaults";
import type { SpecProblem } from "../model/errors";
import { byString } from "../model/order";
import { AgentPlatform, KeyDelivery } from "../model/types";
import { hasToolGateway } from "../model/validate-agent-runtime";
import { keyDeliveryOf } from "./gateway-plan";

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const record = (value: unknown): Record<string, unknown> => (isRecord(value) ? value : {});
const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/**
 * What a deployed gateway needs beyond a valid description, each problem at its path: Vault's
 * address when the gateway holds keys, no listeners of its own (the deployment gives each role
 * its listener), role ports within range and clear of the admin port, and on Docker upstreams on
 * port 443 (the proxy's gateway listener allows no other). Read from the raw description, so that
 * these problems are reported with the description's own in one pass; values of the wrong type are
 * left to the description's checks.
 */
export function gatewayDeploymentProblems(input: unknown): SpecProblem[] {
  if (!isRecord(input) || !hasToolGateway(input)) return [];
  const problems: SpecProblem[] = [];
  const gateway = record(input.gateway);
  const tools = Object.entries(record(input.tools)).sort(([a], [b]) => byString(a, b));
  const custodyTools = tools
    .filter(([, tool]) => isRecord(tool) && isRecord(tool.key) && keyDeliveryOf(tool.key as { delivery?: KeyDelivery }, text(tool.upstream)) === KeyDelivery.GATEWAY)
    .map(([name]) => name);
  const credentialsSecret = record(gateway.redis).credentialsSecret;
  if ((custodyTools.length > 0 || credentialsSecret !== undefined) && record(input.vault).address === undefined) {
    const reads = custodyTools.length > 0 ? `holds the keys of ${custodyTools.join(", ")}` : "reads its Redis credentials (gateway.redis.credentialsSecret) from Vault";
    // Not "key.delivery: agent": a tool the gateway fronts (it has an upstream) never takes it.
    const or = custodyTools.length > 0 ? "or remove upstream (and keyHeader) from those tools so that agents hold their keys and call them directly" : "or remove credentialsSecret";
    problems.push({ path: "vault.address", message: `the gateway ${reads} and its Vault Agent needs Vault's URL; set vault.address (such as https://vault.example.com:8200), ${or}` });
  }
  const firstPort = typeof gateway.port === "number" ? gateway.port : DEFAULTS.gateway.port;
  for (const option of ["listeners", "sourceNetworks"] as const) {
    if (gateway[option] !== undefined) {
      problems.push({ path: `gateway.${option}`, message: `the deployed gateway gives each role its own listener (port ${firstPort} on), so gateway.${option} is for a gateway you run yourself; remove it` });
    }
  }
  const roleCount = Object.keys(record(input.roles)).length;
  const lastPort = firstPort + roleCount - 1;
  if (roleCount > 0 && lastPort > 65_535) {
    problems.push({ path: "gateway.port", message: `${roleCount} roles need gateway ports ${firstPort} to ${lastPort}, past 65535; choose gateway.port ${65_536 - roleCount} or lower` });
  }
  const adminPort = DEFAULTS.gateway.adminPort;
  if (roleCount > 0 && firstPort <= adminPort && adminPort <= lastPort) {
    problems.push({ path: "gateway.port", message: `the role ports from ${firstPort} include ${adminPort}, the gateway's admin port (/metrics, /healthz); choose a gateway.port whose range leaves it out, such as ${DEFAULTS.gateway.port}` });
  }
  if (input.platform === AgentPlatform.DOCKER) {
    for (const [name, tool] of tools) {
      const port = upstreamPort(record(tool).upstream);
      if (port !== "") problems.push({ path: `tools.${name}.upstream`, message: `port ${port}: on Docker the gateway leaves through the proxy, which allows CONNECT to port 443 only; use the upstream's port 443` });
    }
  }
  return problems;
}

/** The explicit port of an upstream URL; "" when it has none or is no URL (the description's checks report that). */
function upstreamPort(upstream: unknown): string {
  if (typeof upstream !== "string" || !URL.canParse(upstream)) return "";
  return new URL(upstream).port;
}
