import { isIP, isIPv4 } from "node:net";
import { checkAgentTools } from "./agent-tools";
import { egressRangeProblem, ipv4InNetwork, ipv4ToText, looksLikeIpLiteral, metadataAddressProblem, metadataEndpointIn, parseCidr, parseIpv4, type Network } from "./addresses";
import { DEFAULTS } from "./defaults";
import { checkAllocations, recordedAllocations } from "./validate-allocations";
import { dnsReasonProblem } from "./dns-opt-in";
import { assignRoleSubnets, defaultEgressSubnet, defaultGatewaySubnet, roleSubnetLayout } from "./docker-subnets";
import { FirewallSpecError, formatPath, type SpecProblem } from "./errors";
import { hostPatternText, multiTenantProblem, parseHostPattern } from "./hosts";
import { labelProblems, NAMESPACE_NAME } from "./kubernetes-names";
import { agentWorkloadName, proxyName, resourceName } from "./names";
import { FIREWALL_PROPS_JSON_SCHEMA } from "./firewall-props-json-schema";
import { conformsTo } from "./json-schema-check";
import { firewallSpecProblems } from "./schema-problems";
import { describe, FIREWALL_NAME_PATTERN, MAX_FIREWALL_NAME_LENGTH, MAX_NAME_LENGTH, NAME_PATTERN } from "./name-rules";
import { unknownName } from "./suggest";
import { checkGatewayOptions, checkToolGatewayOptions } from "./validate-gateway";
import { checkAgentRuntimes } from "./validate-agent-runtime";
import { checkGatewayFrontedHosts } from "./validate-tool-hosts";
import { AgentPlatform, ToolAccess, WebhookFormat, type FirewallSpecProps } from "./types";

/** Parses a memory size (`512M`, `2G`, `1.5Gi`) to MiB, or undefined when malformed. */
export function memoryMiB(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(K|Ki|M|Mi|G|Gi|T|Ti)?B?$/i.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? "M").toLowerCase().replace("i", "");
  const factor: Record<string, number> = { k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 };
  return Math.floor(Number(match[1]) * factor[unit]);
}


const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const entries = (value: unknown): [string, unknown][] => (isRecord(value) ? Object.entries(value) : []);

const ACCESS_ORDER: Record<ToolAccess, number> = { DENY: 0, READ: 1, WRITE: 2, EXECUTE: 3 };

/** Whether `granted` access includes `wanted` (DENY < READ < WRITE < EXECUTE). */
export function accessAllows(granted: ToolAccess, wanted: ToolAccess): boolean {
  return ACCESS_ORDER[granted] >= ACCESS_ORDER[wanted];
}

/**
 * Validates a firewall description and throws one FirewallSpecError listing every problem.
 * Structure is checked by the zod schema; names, references, host patterns, addresses and
 * cross-checks are checked here on the raw input, so that all problems are reported together.
 */
export function validateFirewallSpec(input: unknown, source?: string): FirewallSpecProps {
  const problems: SpecProblem[] = [];
  const add = (path: ReadonlyArray<PropertyKey>, message: string) => problems.push({ path: formatPath(path), message });

  problems.push(...structureProblems(input));
  if (!isRecord(input)) throw new FirewallSpecError(problems, source);

  const platform = input.platform;
  checkNames(input, add);
  checkHosts(input, add);
  checkAddressOptions(input, add);
  checkReferences(input, add);
  checkPlatformOptions(input, platform, add);
  checkAllocations(input, add);
  checkWebhooks(input, add);
  checkAgentTools(input.tools, add);
  for (const [name, tool] of entries(input.tools)) if (isRecord(tool)) checkToolGatewayOptions(name, tool, add);
  checkGatewayOptions(input.gateway, Object.keys(isRecord(input.roles) ? input.roles : {}), add);
  checkAgentRuntimes(input, add);
  checkGatewayFrontedHosts(input, add);
  if (platform === AgentPlatform.DOCKER) checkDockerAddresses(input, add);

  if (problems.length > 0) throw new FirewallSpecError(dedupe(problems), source);
  return input as unknown as FirewallSpecProps;
}

/**
 * Problems of structure (types, ranges, unknown options). Valid input is recognised by its JSON
 * Schema, generated from the zod schema, without loading zod (about 90 ms of a cold process);
 * only input with a problem, or a schema keyword the check does not know, loads zod for its
 * path-by-path messages. A test holds the two verdicts equal over generated input.
 */
function structureProblems(input: unknown): SpecProblem[] {
  return conformsTo(FIREWALL_PROPS_JSON_SCHEMA, input) === true ? [] : firewallSpecProblems(input);
}

type Add = (path: ReadonlyArray<PropertyKey>, message: string) => void;

function dedupe(problems: SpecProblem[]): SpecProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Names every JavaScript object already carries (`constructor`, `toString`, `__proto__` …). The
 * construct tree keeps children in a plain object, so a construct named `constructor` cannot be
 * added; such names are refused up front rather than crash synthesis.
 */
const OBJECT_MEMBER_NAMES = new Set([...Object.getOwnPropertyNames(Object.prototype), "__proto__"]);

function nameProblem(kind: string, name: string): string | undefined {
  if (name === "") return `empty ${kind} name; use lower-case letters, digits, "_" or "-"`;
  if (OBJECT_MEMBER_NAMES.has(name)) return `${kind} name "${name}" is a member every JavaScript object has, which the construct tree cannot hold; rename it, e.g. "${name.replace(/_/g, "").toLowerCase()}-${kind}"`;
  if (name.length > MAX_NAME_LENGTH) return `${kind} name "${name}" has ${name.length} characters; at most ${MAX_NAME_LENGTH} fit the generated Kubernetes and Vault names, so shorten it`;
  if (!NAME_PATTERN.test(name)) {
    const suggestion = name.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[^a-z]+/, "").replace(/[-_]+$/, "");
    return `${kind} name "${name}" must start with a lower-case letter and hold only lower-case letters, digits, "_" and "-"${suggestion ? `; try "${suggestion}"` : ""}`;
  }
  return undefined;
}

/** The firewall's name if it is valid, else the default (its problem is reported by `checkNames`). */
function firewallNameOf(input: Record<string, unknown>): string {
  return typeof input.name === "string" && firewallNameProblem(input.name) === undefined ? input.name : DEFAULTS.name;
}

function firewallNameProblem(name: string): string | undefined {
  const suggestion = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^[^a-z]+/, "").replace(/-+$/, "").slice(0, MAX_FIREWALL_NAME_LENGTH).replace(/-+$/, "");
  const fix = suggestion && suggestion !== name ? `; try "${suggestion}"` : "";
  if (name.length > MAX_FIREWALL_NAME_LENGTH) return `firewall name "${name}" has ${name.length} characters; at most ${MAX_FIREWALL_NAME_LENGTH} leave room for the names derived from it (Kubernetes Services take 63), so shorten it${fix}`;
  if (!FIREWALL_NAME_PATTERN.test(name)) return `firewall name "${name}" must be a DNS label: start with a lower-case letter, hold only lower-case letters, digits and "-", and not end in "-"${fix}`;
  return undefined;
}

/** Names valid, and distinct after normalisation (`web_search` and `web-search` collide). */
function checkNames(input: Record<string, unknown>, add: Add): void {
  if (typeof input.name === "string") {
    const problem = firewallNameProblem(input.name);
    if (problem) add(["name"], problem);
  }
  const firewallName = firewallNameOf(input);
  const check = (kind: string, names: [string, PropertyKey[]][]) => {
    const byResource = new Map<string, string>();
    for (const [name, path] of names) {
      const problem = nameProblem(kind, name);
      if (problem) { add(path, problem); continue; }
      const normal = resourceName(name);
      const other = byResource.get(normal);
      if (other !== undefined && other !== name) {
        add(path, `${kind} "${name}" and ${kind} "${other}" both become "${normal}" in resource names; rename one of them`);
      } else if (other === name) {
        add(path, `duplicate ${kind} "${name}"; each ${kind} needs its own name`);
      }
      byResource.set(normal, name);
    }
  };
  check("tool", entries(input.tools).map(([n]) => [n, ["tools", n]]));
  check("role", entries(input.roles).map(([n]) => [n, ["roles", n]]));
  const agents = Array.isArray(input.agents) ? input.agents : [];
  const agentNames = agents.flatMap((a, i) => (isRecord(a) && typeof a.name === "string" ? [[a.name, ["agents", i, "name"]] as [string, PropertyKey[]]] : []));
  check("agent", agentNames);
  for (const [name, path] of agentNames) {
    if (nameProblem("agent", name) !== undefined) continue;
    if (name.length < 2) add(path, `agent name "${name}" has one character; Docker container names need at least two, so rename it (e.g. "${name}-agent")`);
    else if (resourceName(name).startsWith(`${firewallName}-`)) {
      add(path, `agent name "${name}" starts with "${firewallName}-", which is reserved for the firewall's own containers and Deployments (the proxy is "${proxyName(firewallName)}"); rename the agent`);
    } else if (agentWorkloadName(firewallName, name) === proxyName(firewallName)) {
      add(path, `agent name "${name}" would name the agent "${proxyName(firewallName)}", the firewall's own proxy; rename the agent`);
    }
  }
  if (typeof input.namespace === "string" && !NAMESPACE_NAME.test(input.namespace)) {
    add(["namespace"], `namespace "${input.namespace}" is not a valid Kubernetes name; use lower-case letters, digits and "-" (at most 63), such as ai-agents`);
  } else if (typeof input.namespace === "string" && input.namespace.startsWith("kube-")) {
    add(["namespace"], `namespace "${input.namespace}" is reserved for Kubernetes system components; choose a namespace of the agents' own, such as ai-agents`);
  }
}

/**
 * Checks a list of host patterns. A wildcard over many tenants' hosts passes only when
 * `acknowledged` (the `multiTenantWildcards` list next to it) names it; an acknowledgement that
 * names no such pattern of the list is refused too, so none lingers unnoticed.
 */
function checkHostList(value: unknown, path: PropertyKey[], acknowledged: unknown, ackPath: PropertyKey[], add: Add): void {
  const acks = new Map<string, number>();
  if (Array.isArray(acknowledged)) {
    acknowledged.forEach((text, i) => {
      if (typeof text !== "string") return;
      const parsed = parseHostPattern(text);
      if (typeof parsed === "string") add([...ackPath, i], parsed);
      else if (multiTenantProblem(parsed) === undefined) add([...ackPath, i], `"${text}" does not span many tenants' hosts, so it needs no acknowledgement; remove it from ${String(ackPath[ackPath.length - 1])}`);
      else acks.set(hostPatternText(parsed), i);
    });
  }
  const used = new Set<string>();
  if (Array.isArray(value)) {
    value.forEach((host, i) => {
      if (typeof host !== "string") return;
      const parsed = parseHostPattern(host);
      if (typeof parsed === "string") { add([...path, i], parsed); return; }
      const problem = multiTenantProblem(parsed);
      if (problem === undefined) return;
      if (acks.has(hostPatternText(parsed))) used.add(hostPatternText(parsed));
      else add([...path, i], problem);
    });
  }
  for (const [text, i] of acks) {
    if (!used.has(text)) add([...ackPath, i], `"${text}" is acknowledged but not listed in ${String(path[path.length - 1])}; remove the acknowledgement or add the pattern`);
  }
}

function checkHosts(input: Record<string, unknown>, add: Add): void {
  checkHostList(input.modelHosts, ["modelHosts"], input.multiTenantWildcards, ["multiTenantWildcards"], add);
  if (isRecord(input.proxy) && Array.isArray(input.proxy.noProxy)) {
    input.proxy.noProxy.forEach((host, i) => {
      if (typeof host !== "string" || isIP(host) !== 0) return;
      if (looksLikeIpLiteral(host)) { add(["proxy", "noProxy", i], `"${host}" is not a plain IP address; write it in dotted form, such as 10.0.0.5`); return; }
      const parsed = parseHostPattern(host);
      if (typeof parsed === "string") add(["proxy", "noProxy", i], parsed);
      else if (parsed.wildcard) add(["proxy", "noProxy", i], `"${host}" is a wildcard; agents bypass the proxy only for exact host names or IP addresses, so list each host`);
    });
  }
  for (const [name, role] of entries(input.roles)) {
    if (!isRecord(role) || !isRecord(role.network)) continue;
    const network = role.network;
    checkHostList(network.allowedHosts, ["roles", name, "network", "allowedHosts"], network.multiTenantWildcards, ["roles", name, "network", "multiTenantWildcards"], add);
    if (typeof network.dnsReason === "string") {
      const problem = dnsReasonProblem(network.dnsReason);
      if (problem) add(["roles", name, "network", "dnsReason"], problem);
    }
    if (network.allowEgress !== true && Array.isArray(network.allowedHosts) && network.allowedHosts.length > 0) {
      add(["roles", name, "network", "allowedHosts"], "allowedHosts is set but allowEgress is not true, so the hosts would be ignored; set allowEgress: true or remove allowedHosts");
    }
    if (Array.isArray(network.egressCidrs)) {
      network.egressCidrs.forEach((entry, i) => {
        if (!isRecord(entry) || typeof entry.cidr !== "string") return;
        const cidr = parseCidr(entry.cidr);
        const path = ["roles", name, "network", "egressCidrs", i, "cidr"];
        const problem = typeof cidr === "string" ? withCidrExample(cidr) : egressRangeProblem(entry.cidr, cidr, entry);
        if (problem) add(path, problem);
      });
    }
  }
}

/** A CIDR problem with an example of the right notation, unless it already says what to write. */
function withCidrExample(problem: string, example = "10.20.0.0/16 or fd12:3456::/48"): string {
  return /write|did you mean/.test(problem) ? problem : `${problem}; write a network such as ${example}`;
}

/**
 * Every other address and range option: none may hold a metadata endpoint, and the proxy's
 * extra forbidden ranges must parse.
 */
function checkAddressOptions(input: Record<string, unknown>, add: Add): void {
  const single = (value: unknown, path: PropertyKey[]) => {
    const problem = typeof value === "string" && isIP(value) !== 0 ? metadataAddressProblem(value) : undefined;
    if (problem) add(path, problem);
  };
  const range = (value: unknown, path: PropertyKey[]) => {
    const network = typeof value === "string" ? parseCidr(value) : undefined;
    const metadata = network !== undefined && typeof network !== "string" ? metadataEndpointIn(network) : undefined;
    if (metadata) add(path, `"${String(value)}" contains ${metadata.address}, ${metadata.what}; choose a range that leaves it out`);
  };
  const docker = isRecord(input.docker) ? input.docker : {};
  range(docker.subnet, ["docker", "subnet"]);
  range(docker.egressSubnet, ["docker", "egressSubnet"]);
  range(docker.gatewaySubnet, ["docker", "gatewaySubnet"]);
  if (isRecord(docker.roleSubnets)) for (const [role, subnet] of Object.entries(docker.roleSubnets)) range(subnet, ["docker", "roleSubnets", role]);
  const gateway = isRecord(input.gateway) ? input.gateway : {};
  if (Array.isArray(gateway.sourceNetworks)) gateway.sourceNetworks.forEach((entry, i) => isRecord(entry) && range(entry.cidr, ["gateway", "sourceNetworks", i, "cidr"]));
  if (Array.isArray(docker.dnsServers)) docker.dnsServers.forEach((server, i) => single(server, ["docker", "dnsServers", i]));
  if (isRecord(input.kubernetes)) single(input.kubernetes.nodeLocalDnsIp, ["kubernetes", "nodeLocalDnsIp"]);
  const proxy = isRecord(input.proxy) ? input.proxy : {};
  if (Array.isArray(proxy.noProxy)) proxy.noProxy.forEach((host, i) => single(host, ["proxy", "noProxy", i]));
  if (Array.isArray(proxy.forbiddenCidrs)) {
    proxy.forbiddenCidrs.forEach((text, i) => {
      if (typeof text !== "string") return;
      const network = parseCidr(text);
      if (typeof network === "string") add(["proxy", "forbiddenCidrs", i], withCidrExample(network, "203.0.113.0/24 or 2001:db8:42::/48"));
      else if (network.prefix === 0) add(["proxy", "forbiddenCidrs", i], `"${text}" would forbid every destination, so no agent could reach even its model hosts; list your own ranges`);
    });
  }
}

function checkReferences(input: Record<string, unknown>, add: Add): void {
  const tools = isRecord(input.tools) ? input.tools : {};
  const toolNames = Object.keys(tools);
  const roleNames = Object.keys(isRecord(input.roles) ? input.roles : {});
  for (const [roleName, role] of entries(input.roles)) {
    if (!isRecord(role)) continue;
    for (const [toolName, access] of entries(role.tools)) {
      const path = ["roles", roleName, "tools", toolName];
      const tool = Object.hasOwn(tools, toolName) ? tools[toolName] : undefined;
      if (tool === undefined) { add(path, unknownName("tool", toolName, toolNames)); continue; }
      if ((access === ToolAccess.WRITE || access === ToolAccess.EXECUTE) && isRecord(tool) && Array.isArray(tool.permissions)) {
        const scopes = tool.permissions.filter((p): p is string => typeof p === "string");
        if (scopes.length > 0 && scopes.every((p) => p.endsWith(":read"))) {
          add(path, `${access} on tool "${toolName}" whose key is read-only (${scopes.join(", ")}); grant READ, or add a write scope to tools.${toolName}.permissions`);
        }
      }
    }
  }
  const agents = Array.isArray(input.agents) ? input.agents : [];
  agents.forEach((agent, i) => {
    if (!isRecord(agent)) return;
    if (typeof agent.role === "string" && !roleNames.includes(agent.role)) add(["agents", i, "role"], unknownName("role", agent.role, roleNames));
    checkAgentEnv(agent.env, ["agents", i, "env"], add);
    checkMemory(agent.memory, ["agents", i, "memory"], add);
  });
  if (isRecord(input.proxy)) checkMemory(input.proxy.memory, ["proxy", "memory"], add);
}

function checkMemory(memory: unknown, path: PropertyKey[], add: Add): void {
  if (typeof memory !== "string") return;
  const mib = memoryMiB(memory);
  if (mib === undefined) add(path, `memory "${memory}" is not a size; write a number and a unit such as 512M or 2G`);
  else if (mib < 6) add(path, `memory "${memory}" is below 6M, the smallest limit Docker accepts; write at least 6M`);
  else if (mib > 1024 * 1024) add(path, `memory "${memory}" is above 1T; check the unit`);
}

/**
 * Variables the firewall sets on agents (plan/agent-environment.ts), in any case; `RAPIDCLAW_*` is
 * reserved too. The model SDKs' base URLs point at the gateway when it fronts their API, so
 * they are the firewall's whether or not it does.
 */
const RESERVED_ENV_NAMES = ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether the firewall reserves an environment variable name, so that `env` may not set it. */
export function isReservedEnvName(name: string): boolean {
  const upper = name.toUpperCase();
  return RESERVED_ENV_NAMES.includes(upper) || upper.startsWith("RAPIDCLAW_");
}

/** Why a string that reaches the Terraform JSON verbatim would be evaluated as a template, if it would. */
function templateProblem(what: string, value: string): string | undefined {
  if (!/\$\{|%\{/.test(value.replace(/\$\$\{|%%\{/g, ""))) return undefined;
  return `${what} contains "\${" or "%{", which Terraform would evaluate as an expression (it can read files and other resources' values); write "$\${" or "%%{" for the literal text`;
}

function checkAgentEnv(env: unknown, path: PropertyKey[], add: Add): void {
  for (const [name, value] of entries(env)) {
    if (!ENV_NAME.test(name)) add([...path, name], `environment variable name "${name}" is not valid; use letters, digits and "_", not starting with a digit`);
    else if (isReservedEnvName(name)) add([...path, name], `${name} is set by the firewall (the role's proxy, profile and gateway) and cannot be overridden; remove it from env`);
    if (typeof value === "string") {
      const problem = templateProblem(`the value of ${name}`, value);
      if (problem) add([...path, name], problem);
    }
  }
}

/** The webhook sources a deployment delivers, each on its own platform. */
const SECRET_SOURCES = [
  { key: "kubernetesSecret", platform: AgentPlatform.KUBERNETES, what: "the Secret", holds: "keys", fix: "remove kubernetesSecret, and give vaultSecret (a KV v2 secret under webhooks/ in the key mount)" },
  { key: "vaultSecret", platform: AgentPlatform.DOCKER, what: "the Vault secret", holds: "fields", fix: "give kubernetesSecret instead (an existing Secret in the namespace with the key url, pagerduty: also routingKey)" },
] as const;

/** Each webhook names exactly one source for its URL (and, for PagerDuty, its routing key). */
function checkWebhooks(input: Record<string, unknown>, add: Add): void {
  const webhooks = isRecord(input.monitoring) && Array.isArray(input.monitoring.webhooks) ? input.monitoring.webhooks : [];
  webhooks.forEach((hook, i) => {
    if (!isRecord(hook)) return;
    const path = ["monitoring", "webhooks", i];
    const pagerDuty = hook.format === WebhookFormat.PAGERDUTY;
    const secrets = SECRET_SOURCES.filter((source) => hook[source.key] !== undefined);
    if (secrets.length > 1) add(path, "give kubernetesSecret or vaultSecret, not both: each webhook has one source");
    if (secrets.length > 0) {
      for (const source of secrets) {
        if (input.platform !== source.platform) add([...path, source.key], `${source.what} is delivered on ${source.platform} only and platform is ${String(input.platform)}; ${source.fix}`);
      }
      const [source] = secrets;
      for (const key of ["urlEnv", "urlFile", "routingKeyEnv", "routingKeyFile"]) {
        if (hook[key] !== undefined) add([...path, key], `${source.what} ${String(hook[source.key])} holds the webhook's secrets (${source.holds} url${pagerDuty ? " and routingKey" : ""}); remove ${key}`);
      }
      return;
    }
    if (hook.urlEnv !== undefined && hook.urlFile !== undefined) add(path, "give urlEnv or urlFile, not both");
    else if (hook.urlEnv === undefined && hook.urlFile === undefined && !pagerDuty) {
      add(path, "name where the webhook URL comes from: urlEnv (an environment variable), urlFile (e.g. a file Vault Agent renders), on Docker vaultSecret, or on Kubernetes kubernetesSecret");
    }
    if (pagerDuty) {
      if (hook.routingKeyEnv !== undefined && hook.routingKeyFile !== undefined) add(path, "give routingKeyEnv or routingKeyFile, not both");
      else if (hook.routingKeyEnv === undefined && hook.routingKeyFile === undefined) add(path, "a pagerduty webhook needs its integration key: routingKeyEnv or routingKeyFile");
    } else {
      for (const key of ["routingKeyEnv", "routingKeyFile"]) {
        if (hook[key] !== undefined) add([...path, key], `${key} is for format pagerduty only; remove it`);
      }
    }
  });
}

function checkPlatformOptions(input: Record<string, unknown>, platform: unknown, add: Add): void {
  if (platform === AgentPlatform.KUBERNETES) {
    if (input.docker !== undefined) add(["docker"], "docker options are set but platform is kubernetes; remove them or set platform: docker");
    const agents = Array.isArray(input.agents) ? input.agents : [];
    agents.forEach((a, i) => {
      if (isRecord(a) && a.ipv4Address !== undefined) add(["agents", i, "ipv4Address"], "ipv4Address is for Docker; Kubernetes assigns pod addresses (remove it)");
      if (isRecord(a) && a.user !== undefined) add(["agents", i, "user"], "user is for Docker; Kubernetes agents run as uid 10001 (remove it)");
      if (isRecord(a) && a.processLimit !== undefined) add(["agents", i, "processLimit"], "processLimit is for Docker; on Kubernetes the kubelet's pod pids limit applies (remove it)");
    });
    for (const option of ["memory", "cpus", "processLimit"]) {
      if (isRecord(input.proxy) && input.proxy[option] !== undefined) add(["proxy", option], `proxy.${option} is for Docker; the Kubernetes proxy has fixed requests and limits (remove it)`);
    }
    if (isRecord(input.kubernetes) && typeof input.kubernetes.nodeLocalDnsIp === "string" && !isIPv4(input.kubernetes.nodeLocalDnsIp)) {
      add(["kubernetes", "nodeLocalDnsIp"], `"${input.kubernetes.nodeLocalDnsIp}" is not an IPv4 address; NodeLocal DNSCache usually listens on 169.254.20.10`);
    }
    const ingress = isRecord(input.kubernetes) && isRecord(input.kubernetes.ingress) ? input.kubernetes.ingress : undefined;
    if (ingress && isRecord(ingress.namespaceLabels)) {
      const path = ["kubernetes", "ingress", "namespaceLabels"];
      const labels = Object.entries(ingress.namespaceLabels);
      if (labels.length === 0) add(path, "namespaceLabels is empty, which selects every namespace; list the labels of the namespaces allowed to connect, e.g. kubernetes.io/metadata.name: frontend");
      for (const [key, value] of labels) {
        for (const problem of labelProblems(key, value)) add([...path, key], problem);
      }
    }
  }
  if (isRecord(input.vault)) {
    const mountPath = input.vault.mountPath;
    if (typeof mountPath === "string" && VAULT_RESERVED_MOUNTS.includes(mountPath.split("/")[0])) {
      add(["vault", "mountPath"], `"${mountPath}" is under a path Vault reserves (${VAULT_RESERVED_MOUNTS.join(", ")}); use a path of your own, such as agent-keys`);
    }
    if (typeof input.vault.kubernetesHost === "string") {
      const problem = templateProblem("kubernetesHost", input.vault.kubernetesHost);
      if (problem) add(["vault", "kubernetesHost"], problem);
    }
  }
  if (platform === AgentPlatform.DOCKER) {
    if (input.kubernetes !== undefined) add(["kubernetes"], "kubernetes options are set but platform is docker; remove them or set platform: kubernetes");
    if (input.namespace !== undefined) add(["namespace"], "namespace is a Kubernetes option but platform is docker; remove it");
    for (const [name, role] of entries(input.roles)) {
      if (isRecord(role) && isRecord(role.network) && Array.isArray(role.network.egressCidrs) && role.network.egressCidrs.length > 0) {
        add(["roles", name, "network", "egressCidrs"], `egressCidrs needs Kubernetes NetworkPolicy; Docker agents have no route but the proxy (remove it, or attach the backend to the role's network ${firewallNameOf(input)}-agents-${resourceName(name)})`);
      }
    }
    if (isRecord(input.proxy) && input.proxy.replicas !== undefined) add(["proxy", "replicas"], "proxy.replicas is a Kubernetes option; Docker runs one proxy container (remove it)");
    if (isRecord(input.gateway) && input.gateway.replicas !== undefined) add(["gateway", "replicas"], "gateway.replicas is a Kubernetes option; Docker runs one gateway container (remove it)");
    const agents = Array.isArray(input.agents) ? input.agents : [];
    agents.forEach((a, i) => {
      if (isRecord(a) && a.replicas !== undefined) add(["agents", i, "replicas"], "replicas is a Kubernetes option; on Docker declare one agent per container (remove it)");
    });
    if (isRecord(input.docker) && Array.isArray(input.docker.dnsServers)) {
      input.docker.dnsServers.forEach((server, i) => {
        if (typeof server === "string" && parseIpv4(server) === undefined) add(["docker", "dnsServers", i], `"${server}" is not an IPv4 address; write the resolver's address, such as 10.0.0.53`);
      });
    }
  }
}

/** First path segments Vault keeps for itself; a secrets engine cannot be mounted under them. */
const VAULT_RESERVED_MOUNTS = ["auth", "cubbyhole", "identity", "sys"];

function subnetOf(value: unknown, path: PropertyKey[], fallback: string, prefixes: readonly [number, number], add: Add): Network | undefined {
  const text = typeof value === "string" ? value : fallback;
  const parsed = parseCidr(text);
  if (typeof parsed === "string") { add(path, withCidrExample(parsed, fallback)); return undefined; }
  if (parsed.version !== 4) { add(path, `"${text}" is IPv6; Docker subnets here are IPv4`); return undefined; }
  if (parsed.prefix < prefixes[0] || parsed.prefix > prefixes[1]) { add(path, `"${text}" must have a prefix from /${prefixes[0]} to /${prefixes[1]}`); return undefined; }
  return parsed;
}

const overlapping = (a: Network, b: Network) => ipv4InNetwork(a.base, b) || ipv4InNetwork(b.base, a);

/**
 * Docker: the pool, the pinned role subnets and the egress subnet valid and apart, every role's
 * subnet distinct, pinned agent addresses inside the lower half of their role's subnet and
 * unique, and room in each role's upper half for the agents the engine addresses.
 */
function checkDockerAddresses(input: Record<string, unknown>, add: Add): void {
  const docker = isRecord(input.docker) ? input.docker : {};
  const firewallName = firewallNameOf(input);
  const prefix = typeof docker.roleSubnetPrefix === "number" ? docker.roleSubnetPrefix : DEFAULTS.roleSubnetPrefix;
  const pool = subnetOf(docker.subnet, ["docker", "subnet"], DEFAULTS.agentSubnet, [8, 27], add);
  const egress = subnetOf(docker.egressSubnet, ["docker", "egressSubnet"], defaultEgressSubnet(firewallName), [16, 28], add);
  if (pool && pool.prefix >= prefix) {
    add(["docker", "subnet"], `"${pool.text}" cannot hold role subnets of /${prefix}; use a pool with a shorter prefix (such as /${Math.max(8, prefix - 8)}) or a longer docker.roleSubnetPrefix`);
  }
  const roleNames = Object.keys(isRecord(input.roles) ? input.roles : {}).sort();
  const pinned = new Map<string, Network>();
  for (const [role, text] of entries(docker.roleSubnets)) {
    const path = ["docker", "roleSubnets", role];
    if (!roleNames.includes(role)) { add(path, unknownName("role", role, roleNames)); continue; }
    const subnet = subnetOf(text, path, "172.30.0.0/24", [16, 28], add);
    if (!subnet) continue;
    const clash = [...pinned].find(([, other]) => overlapping(subnet, other));
    if (clash) add(path, `${subnet.text} overlaps the subnet of role "${clash[0]}" (${clash[1].text}); give each role its own range`);
    else pinned.set(role, subnet);
  }
  const gateway = subnetOf(docker.gatewaySubnet, ["docker", "gatewaySubnet"], defaultGatewaySubnet(firewallName), [16, 26], add);
  if (egress && pool && overlapping(egress, pool)) add(["docker", "egressSubnet"], `egress subnet ${egress.text} overlaps the agent pool ${pool.text}; choose disjoint ranges`);
  for (const [name, other] of [["agent pool", pool], ["egress subnet", egress]] as const) {
    if (gateway && other && overlapping(gateway, other)) add(["docker", "gatewaySubnet"], `gateway subnet ${gateway.text} overlaps the ${name} ${other.text}; choose disjoint ranges`);
  }
  for (const [role, subnet] of pinned) {
    if (egress && overlapping(egress, subnet)) add(["docker", "roleSubnets", role], `${subnet.text} overlaps the egress subnet ${egress.text}; choose disjoint ranges`);
    if (gateway && overlapping(gateway, subnet)) add(["docker", "roleSubnets", role], `${subnet.text} overlaps the gateway subnet ${gateway.text}; choose disjoint ranges`);
  }
  if (!pool || pool.prefix >= prefix) return;

  const { subnets, problems } = assignRoleSubnets(roleNames, pool, prefix, pinned, firewallName, recordedAllocations(input.allocations).subnets);
  for (const problem of problems) add(problem.path, problem.message);
  const taken = new Map<bigint, string>();
  const dynamic = new Map<string, number>();
  const agents = Array.isArray(input.agents) ? input.agents : [];
  agents.forEach((agent, i) => {
    if (!isRecord(agent) || typeof agent.role !== "string") return;
    const subnet = subnets.get(agent.role);
    if (!subnet) return;
    if (agent.ipv4Address === undefined) { dynamic.set(agent.role, (dynamic.get(agent.role) ?? 0) + 1); return; }
    const layout = roleSubnetLayout(subnet);
    const range = `${ipv4ToText(layout.pinnedFirst)} to ${ipv4ToText(layout.pinnedLast)}`;
    const path = ["agents", i, "ipv4Address"];
    const address = typeof agent.ipv4Address === "string" ? parseIpv4(agent.ipv4Address) : undefined;
    if (address === undefined) { add(path, `${describe(agent.ipv4Address)} is not an IPv4 address; write one from ${range} (role ${agent.role}), or remove it to let the engine pick one`); return; }
    if (address === layout.toolGateway) {
      add(path, `${agent.ipv4Address} is the tool gateway's address on role ${agent.role}'s network (the third of ${subnet.text}, kept for it even when no gateway is deployed); pick one from ${range}`);
      return;
    }
    if (address < layout.pinnedFirst || address > layout.pinnedLast) {
      add(path, `${agent.ipv4Address} is not a pinnable address of role ${agent.role}'s subnet ${subnet.text}; pick one from ${range} (the network's gateway, the proxy and the tool gateway take the first three, the engine the upper half)`);
      return;
    }
    const other = taken.get(address);
    if (other !== undefined) add(path, `${agent.ipv4Address} is already the address of agent "${other}"; each agent needs its own`);
    else taken.set(address, String(agent.name));
  });
  for (const [role, count] of dynamic) {
    const layout = roleSubnetLayout(subnets.get(role) as Network);
    const room = Number(1n << BigInt(32 - layout.dynamicRange.prefix)) - 1;
    if (count > room) add(["agents"], `${count} agents of role ${role} need an address from the engine but ${layout.dynamicRange.text} holds ${room}; give the role a larger subnet (a shorter docker.roleSubnetPrefix, or docker.roleSubnets.${role})`);
  }
}
