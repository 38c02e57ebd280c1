import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { AgentPlatform, FirewallSpecError, RapidClawStack, type RapidClawStackProps } from "../src";
import { FIREWALL_PROPS_JSON_SCHEMA } from "../src/model/firewall-props-json-schema";
import { conformsTo } from "../src/model/json-schema-check";
import { loadFirewallSpec } from "../src/model/load";
import { zodSchemas } from "../src/model/schema";

const { firewallSpecSchema } = zodSchemas();

/**
 * Bad input is refused before anything is synthesized: building a RapidClawStack in a fresh App
 * throws FirewallSpecError, the problem is listed under its exact path with a message that says
 * how to fix it, the App holds no construct, and the App's outdir holds no file.
 */

type Props = Record<string, any>;

/** The seed scenario on a platform, with one change applied. */
const docker = (change: (spec: Props) => void = () => {}) => (): Props => {
  const spec: Props = structuredClone(firewallScenario(AgentPlatform.DOCKER));
  change(spec);
  return spec;
};
const kubernetes = (change: (spec: Props) => void = () => {}) => (): Props => {
  const spec: Props = structuredClone(firewallScenario(AgentPlatform.KUBERNETES));
  change(spec);
  return spec;
};

interface BuildAttempt {
  readonly error: unknown;
  /** Files under the App's outdir afterwards (cdktf makes the empty `stacks` folder when an App is created). */
  readonly files: string[];
  /** Constructs added to the App. */
  readonly constructs: number;
}

/** Builds a RapidClawStack from `props` (or from what `load` returns) in an App with a fresh outdir. */
function attempt(load: () => unknown): BuildAttempt {
  const outdir = mkdtempSync(join(tmpdir(), "rapidclaw-bad-input-"));
  try {
    const app = new App({ outdir });
    let error: unknown;
    try {
      new RapidClawStack(app, "agent-firewall", load() as RapidClawStackProps);
    } catch (caught) {
      error = caught;
    }
    const files = readdirSync(outdir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);
    return { error, files, constructs: app.node.children.length };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function expectRefused(result: BuildAttempt): FirewallSpecError {
  expect(result.error).toBeInstanceOf(FirewallSpecError);
  expect(result.files).toEqual([]);
  expect(result.constructs).toBe(0);
  return result.error as FirewallSpecError;
}

interface BadInput {
  /** What is wrong. */
  readonly name: string;
  readonly props: () => Props;
  /** Exact path of the problem. */
  readonly path: string;
  /** Part of the problem's message that tells how to fix it. */
  readonly fix: string;
}

const TOO_LONG = "a".repeat(49);

const BAD_INPUTS: BadInput[] = [
  // Unknown references.
  { name: "a role granting an unknown tool", props: docker((s) => { s.roles.research_agent.tools.web_serch = "READ"; }), path: "roles.research_agent.tools.web_serch", fix: 'did you mean "web_search"?' },
  { name: "an agent holding an unknown role", props: docker((s) => { s.agents[0].role = "reserch_agent"; }), path: "agents[0].role", fix: 'did you mean "research_agent"?' },
  { name: "a role granting a tool nothing resembles", props: docker((s) => { s.roles.customer_support.tools.calendar = "READ"; }), path: "roles.customer_support.tools.calendar", fix: "known tools: database, file_upload, knowledge_base" },
  { name: "a role granting a tool named like an Object method", props: docker((s) => { s.roles.customer_support.tools.constructor = "READ"; }), path: "roles.customer_support.tools.constructor", fix: "known tools:" },
  { name: "an agent holding a role while no roles exist", props: docker((s) => { s.roles = {}; }), path: "agents[0].role", fix: "no roles are defined" },

  // Names.
  { name: "an empty tool name", props: docker((s) => { s.tools[""] = {}; }), path: "tools.", fix: "use lower-case letters, digits" },
  { name: "a tool name in camel case", props: docker((s) => { s.tools.WebSearch = {}; }), path: "tools.WebSearch", fix: 'try "websearch"' },
  { name: "a role name with a space", props: docker((s) => { s.roles["customer support"] = {}; }), path: "roles.customer support", fix: 'try "customer-support"' },
  { name: "an agent name starting with a digit", props: docker((s) => { s.agents[0].name = "1agent"; }), path: "agents[0].name", fix: 'try "agent"' },
  { name: "an empty agent name", props: docker((s) => { s.agents[0].name = ""; }), path: "agents[0].name", fix: "use lower-case letters" },
  { name: "tools web_search and web-search (the same after normalisation)", props: docker((s) => { s.tools["web-search"] = {}; }), path: "tools.web-search", fix: "rename one of them" },
  { name: "roles research_agent and research-agent", props: kubernetes((s) => { s.roles["research-agent"] = {}; }), path: "roles.research-agent", fix: "rename one of them" },
  { name: "agents openclaw-agent and openclaw_agent", props: docker((s) => { s.agents.push({ ...s.agents[0], name: "openclaw_agent" }); }), path: "agents[2].name", fix: "rename one of them" },
  { name: "two agents of one name", props: docker((s) => { s.agents.push({ ...s.agents[0] }); }), path: "agents[2].name", fix: "each agent needs its own name" },
  { name: "a tool name too long for the generated Kubernetes names", props: kubernetes((s) => { s.tools[TOO_LONG] = {}; }), path: `tools.${TOO_LONG}`, fix: "shorten it" },
  { name: "an agent name too long for Kubernetes", props: kubernetes((s) => { s.agents[0].name = TOO_LONG; }), path: "agents[0].name", fix: "shorten it" },
  { name: "a role named constructor", props: kubernetes((s) => { s.roles.constructor = {}; }), path: "roles.constructor", fix: 'rename it, e.g. "constructor-role"' },
  { name: "a tool named constructor", props: docker((s) => { s.tools.constructor = {}; }), path: "tools.constructor", fix: "a member every JavaScript object has" },
  { name: "an agent named constructor", props: docker((s) => { s.agents[0].name = "constructor"; }), path: "agents[0].name", fix: 'rename it, e.g. "constructor-agent"' },
  { name: "a role named __proto__ (from JSON)", props: () => JSON.parse(JSON.stringify(firewallScenario(AgentPlatform.DOCKER)).replace('"roles":{', '"roles":{"__proto__":{},')), path: "roles.__proto__", fix: "a member every JavaScript object has" },
  { name: "a one-character agent name (Docker names need two)", props: docker((s) => { s.agents[0].name = "a"; }), path: "agents[0].name", fix: 'rename it (e.g. "a-agent")' },
  { name: "an agent named like the firewall's proxy", props: docker((s) => { s.agents[0].name = "rapidclaw-egress-proxy"; }), path: "agents[0].name", fix: "rename the agent" },
  { name: "a namespace that is not a Kubernetes name", props: kubernetes((s) => { s.namespace = "AI_Agents"; }), path: "namespace", fix: "use lower-case letters" },
  { name: "the kube-system namespace", props: kubernetes((s) => { s.namespace = "kube-system"; }), path: "namespace", fix: "choose a namespace of the agents' own" },

  // Host patterns.
  { name: 'the host pattern "*"', props: docker((s) => { s.modelHosts = ["*"]; }), path: "modelHosts[0]", fix: "list the hosts or use a subdomain wildcard" },
  { name: 'the public-suffix wildcard "*.com"', props: docker((s) => { s.modelHosts.push("*.com"); }), path: "modelHosts[2]", fix: "wildcard a domain you control" },
  { name: 'the public-suffix wildcard "*.co.uk"', props: docker((s) => { s.roles.research_agent.network.allowedHosts = ["*.co.uk"]; }), path: "roles.research_agent.network.allowedHosts[0]", fix: "wildcard a domain you control" },
  { name: 'the double wildcard "**.example.com"', props: docker((s) => { s.modelHosts = ["**.example.com"]; }), path: "modelHosts[0]", fix: '("*.example.com")' },
  { name: 'an inner wildcard "api.*.example.com"', props: docker((s) => { s.roles.research_agent.network.allowedHosts.push("api.*.example.com"); }), path: "roles.research_agent.network.allowedHosts[4]", fix: '("*.example.com")' },
  { name: "an IPv4 literal as a host", props: docker((s) => { s.modelHosts = ["10.0.0.1"]; }), path: "modelHosts[0]", fix: "use network.egressCidrs for address ranges" },
  { name: "an IPv6 literal as a host", props: kubernetes((s) => { s.modelHosts = ["[2001:db8::1]"]; }), path: "modelHosts[0]", fix: "use network.egressCidrs" },
  { name: "a URL as a host", props: docker((s) => { s.modelHosts = ["https://api.anthropic.com/v1/messages"]; }), path: "modelHosts[0]", fix: 'write only its host name, e.g. "api.anthropic.com"' },
  { name: "a host with a port", props: docker((s) => { s.modelHosts = ["api.anthropic.com:443"]; }), path: "modelHosts[0]", fix: 'write the host without ":port"' },
  { name: "a host with a scheme", props: kubernetes((s) => { s.roles.research_agent.network.allowedHosts = ["http://arxiv.org"]; }), path: "roles.research_agent.network.allowedHosts[0]", fix: 'write only its host name, e.g. "arxiv.org"' },
  { name: "a host with a space", props: docker((s) => { s.modelHosts = ["api .anthropic.com"]; }), path: "modelHosts[0]", fix: "remove it" },
  { name: "an empty host", props: docker((s) => { s.modelHosts = [""]; }), path: "modelHosts[0]", fix: "write a host such as api.example.com" },
  { name: "a single-label host", props: docker((s) => { s.modelHosts = ["localhost."]; }), path: "modelHosts[0]", fix: "such as localhost.example.com" },
  // Wildcards over domains many customers share.
  { name: "a model host wildcard over amazonaws.com", props: docker((s) => { s.modelHosts = ["*.amazonaws.com"]; }), path: "modelHosts[0]", fix: 'e.g. "bedrock-runtime.us-east-1.amazonaws.com"' },
  { name: "an allowed wildcard over on.aws", props: docker((s) => { s.roles.research_agent.network.allowedHosts = ["*.on.aws"]; }), path: "roles.research_agent.network.allowedHosts[0]", fix: "repeat \"*.on.aws\" in multiTenantWildcards" },
  { name: "an allowed wildcard over windows.net", props: docker((s) => { s.roles.research_agent.network.allowedHosts = ["*.windows.net"]; }), path: "roles.research_agent.network.allowedHosts[0]", fix: "such as blob.core.windows.net sit below it" },
  { name: "an allowed wildcard over core.windows.net", props: docker((s) => { s.roles.research_agent.network.allowedHosts = ["*.core.windows.net"]; }), path: "roles.research_agent.network.allowedHosts[0]", fix: '"<account>.blob.core.windows.net"' },
  { name: "an allowed wildcard over storage.googleapis.com", props: docker((s) => { s.roles.research_agent.network.allowedHosts = ["*.storage.googleapis.com"]; }), path: "roles.research_agent.network.allowedHosts[0]", fix: "list the exact hosts instead" },
  { name: "an allowed wildcard over nip.io", props: docker((s) => { s.roles.research_agent.network.allowedHosts = ["*.nip.io"]; }), path: "roles.research_agent.network.allowedHosts[0]", fix: "subdomains of nip.io belong to different customers" },
  { name: "an allowed wildcard over sslip.io", props: docker((s) => { s.roles.research_agent.network.allowedHosts = ["*.sslip.io"]; }), path: "roles.research_agent.network.allowedHosts[0]", fix: "subdomains of sslip.io" },
  { name: "a multi-tenant wildcard acknowledged for another role only", props: docker((s) => { s.roles.customer_support.network = { allowEgress: true, allowedHosts: ["*.amazonaws.com"] }; s.roles.research_agent.network.allowedHosts = ["*.amazonaws.com"]; s.roles.research_agent.network.multiTenantWildcards = ["*.amazonaws.com"]; }), path: "roles.customer_support.network.allowedHosts[0]", fix: "repeat \"*.amazonaws.com\" in multiTenantWildcards" },
  { name: "an acknowledgement of a pattern not listed", props: docker((s) => { s.roles.research_agent.network.multiTenantWildcards = ["*.amazonaws.com"]; }), path: "roles.research_agent.network.multiTenantWildcards[0]", fix: "is acknowledged but not listed in allowedHosts" },
  { name: "an acknowledgement of a pattern that needs none", props: docker((s) => { s.multiTenantWildcards = ["*.google.com"]; }), path: "multiTenantWildcards[0]", fix: "needs no acknowledgement" },
  { name: "allowedHosts without allowEgress", props: docker((s) => { s.roles.customer_support.network.allowedHosts = ["api.zendesk.com"]; }), path: "roles.customer_support.network.allowedHosts", fix: "set allowEgress: true or remove allowedHosts" },

  // CIDRs.
  { name: "a CIDR without a prefix", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "10.20.0.0", ports: [5432] }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "write an address and a prefix length" },
  { name: "a CIDR with a malformed address", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "10.20.0/16", ports: [5432] }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "write a network such as 10.20.0.0/16" },
  { name: "a CIDR with host bits set", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "10.20.0.7/16", ports: [5432] }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: 'did you mean "10.20.0.0/16"?' },
  { name: "the CIDR 0.0.0.0/0", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "0.0.0.0/0", ports: [443] }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "send web traffic through the proxy (allowedHosts)" },
  { name: "the CIDR ::/0", props: kubernetes((s) => { s.roles.customer_support.network.egressCidrs = [{ cidr: "::/0", ports: [443] }]; }), path: "roles.customer_support.network.egressCidrs[0].cidr", fix: "send web traffic through the proxy (allowedHosts)" },
  { name: "a CIDR holding the cloud metadata address", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "169.254.0.0/16", ports: [80] }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "choose a range of your backends that leaves it out" },
  { name: "an IPv4 prefix longer than /32", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "10.0.0.0/33", ports: [80] }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "write a network such as" },
  { name: "a near-whole-internet IPv4 range", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "0.0.0.0/1", ports: [443] }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "set allowBroad: true on this entry if you mean it" },
  { name: "a near-whole-internet IPv6 range", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "8000::/1", ports: [443] }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "spans more than a /32" },
  { name: "a public range without allowPublic", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "52.94.0.0/16", ports: [443] }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "set allowPublic: true on this entry if it is your own range" },
  { name: "a broad range acknowledged but holding a metadata endpoint", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "0.0.0.0/1", ports: [443], allowBroad: true, allowPublic: true }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "contains 100.100.100.200, the Alibaba Cloud metadata service" },
  { name: "a CIDR holding AWS's IPv6 metadata address", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "fd00:ec2::/64", ports: [80] }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "contains fd00:ec2::254, the AWS instance metadata service over IPv6" },
  { name: "a CIDR holding the ECS credentials endpoint", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "169.254.170.2/32", ports: [80] }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "the AWS ECS task metadata and credentials endpoint" },
  { name: "a CIDR holding the EKS Pod Identity agent", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "169.254.170.23/32", ports: [80] }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "the AWS EKS Pod Identity agent" },
  { name: "a CIDR holding Alibaba's metadata service", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "100.100.100.200/32", ports: [80] }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "the Alibaba Cloud metadata service" },
  { name: "a CIDR holding the metadata address in its IPv4-mapped spelling", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "::ffff:169.254.169.254/128", ports: [80], allowPublic: true }]; }), path: "roles.research_agent.network.egressCidrs[0].cidr", fix: "contains 169.254.169.254" },
  { name: "the metadata address in noProxy", props: kubernetes((s) => { s.proxy = { noProxy: ["169.254.169.254"] }; }), path: "proxy.noProxy[0]", fix: "agents must never reach it directly" },
  { name: "a metadata address as Docker DNS server", props: docker((s) => { s.docker = { dnsServers: ["100.100.100.200"] }; }), path: "docker.dnsServers[0]", fix: "the Alibaba Cloud metadata service" },
  { name: "a metadata address as NodeLocal DNS", props: kubernetes((s) => { s.kubernetes = { nodeLocalDnsIp: "169.254.170.2" }; }), path: "kubernetes.nodeLocalDnsIp", fix: "the AWS ECS task metadata" },
  { name: "a Docker subnet holding a metadata endpoint", props: docker((s) => { s.docker = { subnet: "169.254.170.0/24" }; }), path: "docker.subnet", fix: "choose a range that leaves it out" },
  { name: "a pinned role subnet holding a metadata endpoint", props: docker((s) => { s.docker = { roleSubnets: { research_agent: "100.100.100.192/28" } }; }), path: "docker.roleSubnets.research_agent", fix: "choose a range that leaves it out" },
  { name: "a gateway source network holding a metadata endpoint", props: docker((s) => { s.gateway = { sourceNetworks: [{ cidr: "169.254.169.0/24", role: "research_agent" }] }; }), path: "gateway.sourceNetworks[0].cidr", fix: "choose a range that leaves it out" },
  { name: "a malformed forbidden range", props: docker((s) => { s.proxy = { forbiddenCidrs: ["203.0.113.0"] }; }), path: "proxy.forbiddenCidrs[0]", fix: "write an address and a prefix length" },
  { name: "a forbidden range of everything", props: docker((s) => { s.proxy = { forbiddenCidrs: ["::/0"] }; }), path: "proxy.forbiddenCidrs[0]", fix: "would forbid every destination" },
  { name: "a per-client connection cap below 16", props: docker((s) => { s.proxy = { maxConnectionsPerClient: 4 }; }), path: "proxy.maxConnectionsPerClient", fix: "must be at least 16" },
  { name: "a request start timeout above 600 s", props: docker((s) => { s.proxy = { requestStartTimeoutSec: 3_600 }; }), path: "proxy.requestStartTimeoutSec", fix: "must be at most 600" },
  { name: "a CIDR with no ports", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "10.20.0.0/16", ports: [] }]; }), path: "roles.research_agent.network.egressCidrs[0].ports", fix: "ports must list at least one port" },
  { name: "a CIDR port of 0", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "10.20.0.0/16", ports: [0] }]; }), path: "roles.research_agent.network.egressCidrs[0].ports[0]", fix: "must be at least 1" },
  { name: "a CIDR port above 65535", props: kubernetes((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "10.20.0.0/16", ports: [70_000] }]; }), path: "roles.research_agent.network.egressCidrs[0].ports[0]", fix: "must be at most 65,535" },

  // Rate limits and keys.
  { name: "a rate limit of zero calls", props: docker((s) => { s.tools.web_search.rateLimit.maxCalls = 0; }), path: "tools.web_search.rateLimit.maxCalls", fix: "must be at least 1" },
  { name: "a negative rate limit", props: docker((s) => { s.tools.send_email.rateLimit.maxCalls = -5; }), path: "tools.send_email.rateLimit.maxCalls", fix: "must be at least 1" },
  { name: "a fractional rate limit", props: docker((s) => { s.tools.database.rateLimit.maxCalls = 2.5; }), path: "tools.database.rateLimit.maxCalls", fix: "must be a whole number" },
  { name: "an absurd rate-limit window", props: docker((s) => { s.tools.web_search.rateLimit.windowSec = 31_536_000; }), path: "tools.web_search.rateLimit.windowSec", fix: "must be at most 86,400" },
  { name: "a rate-limit window of zero", props: docker((s) => { s.tools.web_search.rateLimit.windowSec = 0; }), path: "tools.web_search.rateLimit.windowSec", fix: "must be at least 1" },
  { name: "a rate limit without windowSec", props: docker((s) => { s.tools.web_search.rateLimit = { maxCalls: 20 }; }), path: "tools.web_search.rateLimit.windowSec", fix: "windowSec is required" },
  { name: "key rotation every 0 hours", props: docker((s) => { s.tools.web_search.key.rotationHours = 0; }), path: "tools.web_search.key.rotationHours", fix: "must be at least 1" },
  { name: "key rotation beyond a year", props: docker((s) => { s.tools.send_email.key.rotationHours = 10_000; }), path: "tools.send_email.key.rotationHours", fix: "must be at most 8,760" },
  { name: "a key of 8 characters", props: docker((s) => { s.tools.database.key.length = 8; }), path: "tools.database.key.length", fix: "must be at least 16" },
  { name: "a permission without an action", props: docker((s) => { s.tools.database.permissions = ["db"]; }), path: "tools.database.permissions[0]", fix: "written resource:action, e.g. db:read" },

  // Access levels.
  { name: "WRITE on a read-only key", props: docker((s) => { s.roles.research_agent.tools.database = "WRITE"; }), path: "roles.research_agent.tools.database", fix: "grant READ, or add a write scope" },
  { name: "EXECUTE on a read-only key", props: kubernetes((s) => { s.roles.research_agent.tools.web_search = "EXECUTE"; }), path: "roles.research_agent.tools.web_search", fix: "grant READ" },
  { name: "an access level in lower case", props: docker((s) => { s.roles.research_agent.tools.database = "read"; }), path: "roles.research_agent.tools.database", fix: 'must be one of "DENY", "READ", "WRITE", "EXECUTE"' },

  // Agents: resources, addresses, platform options, environment.
  { name: "memory that is not a size", props: docker((s) => { s.agents[0].memory = "lots"; }), path: "agents[0].memory", fix: "write a number and a unit such as 512M or 2G" },
  { name: "memory below what Docker accepts", props: docker((s) => { s.agents[0].memory = "1K"; }), path: "agents[0].memory", fix: "write at least 6M" },
  { name: "memory of 5 terabytes", props: kubernetes((s) => { s.agents[1].memory = "5T"; }), path: "agents[1].memory", fix: "check the unit" },
  { name: "zero CPUs", props: docker((s) => { s.agents[0].cpus = 0; }), path: "agents[0].cpus", fix: "cpus must be at least 0.01" },
  { name: "128 CPUs", props: kubernetes((s) => { s.agents[0].cpus = 128; }), path: "agents[0].cpus", fix: "cpus must be at most 64" },
  { name: "CPUs as a string", props: docker((s) => { s.agents[0].cpus = "2"; }), path: "agents[0].cpus", fix: "cpus must be a number" },
  { name: "an image reference with spaces", props: docker((s) => { s.agents[0].image = "openclaw agent"; }), path: "agents[0].image", fix: "such as openclaw/agent:1.4" },
  { name: "an agent address outside its role's subnet", props: docker((s) => { s.agents[0].ipv4Address = "10.0.0.10"; }), path: "agents[0].ipv4Address", fix: "pick one from 172.30.16.4 to 172.30.16.127" },
  { name: "two agents at one address", props: docker((s) => { s.agents[1].role = "research_agent"; s.agents[0].ipv4Address = "172.30.16.20"; s.agents[1].ipv4Address = "172.30.16.20"; }), path: "agents[1].ipv4Address", fix: "each agent needs its own" },
  { name: "an agent at the proxy's address", props: docker((s) => { s.agents[0].ipv4Address = "172.30.16.2"; }), path: "agents[0].ipv4Address", fix: "the proxy and the tool gateway take the first three" },
  { name: "an agent at the tool gateway's address", props: docker((s) => { s.agents[0].ipv4Address = "172.30.16.3"; }), path: "agents[0].ipv4Address", fix: "is the tool gateway's address on role research_agent's network" },
  { name: "a key for the gateway on a tool without upstream", props: docker((s) => { s.tools.database.key = { delivery: "gateway" }; }), path: "tools.database.key.delivery", fix: "add tools.database.upstream" },
  { name: "a key for agents on a tool the gateway fronts", props: docker((s) => { s.tools.database.upstream = "https://db.example.com"; s.tools.database.key = { delivery: "agent" }; }), path: "tools.database.key.delivery", fix: "strips every credential agents send" },
  { name: "a token budget on a tool without upstream", props: docker((s) => { s.tools.knowledge_base.tokenLimit = { maxTokens: 1000, windowSec: 60 }; }), path: "tools.knowledge_base.tokenLimit", fix: "add tools.knowledge_base.upstream" },
  { name: "a token budget of zero", props: docker((s) => { s.tools.knowledge_base.upstream = "https://api.anthropic.com"; s.tools.knowledge_base.tokenLimit = { maxTokens: 0, windowSec: 60 }; }), path: "tools.knowledge_base.tokenLimit.maxTokens", fix: "maxTokens must be at least 1" },
  { name: "an MCP server without upstream", props: docker((s) => { s.tools.knowledge_base.mcp = { tools: { search: "READ" } }; }), path: "tools.knowledge_base.mcp", fix: "Streamable HTTP endpoint" },
  { name: "an MCP server with executeOperations", props: docker((s) => { s.tools.knowledge_base.upstream = "https://mcp.example.com/mcp"; s.tools.knowledge_base.executeOperations = [{ method: "POST", path: "/x" }]; s.tools.knowledge_base.mcp = { tools: {} }; }), path: "tools.knowledge_base.mcp", fix: "remove tools.knowledge_base.executeOperations" },
  { name: "an MCP tool with DENY", props: docker((s) => { s.tools.knowledge_base.upstream = "https://mcp.example.com/mcp"; s.tools.knowledge_base.mcp = { tools: { search: "DENY" } }; }), path: "tools.knowledge_base.mcp.tools.search", fix: "remove \"search\"" },
  { name: "an MCP tool name with a space", props: docker((s) => { s.tools.knowledge_base.upstream = "https://mcp.example.com/mcp"; s.tools.knowledge_base.mcp = { tools: { "rm rf": "READ" } }; }), path: "tools.knowledge_base.mcp.tools.rm rf", fix: "is not an MCP tool name" },
  { name: "an MCP tool access in lower case", props: docker((s) => { s.tools.knowledge_base.upstream = "https://mcp.example.com/mcp"; s.tools.knowledge_base.mcp = { tools: { search: "read" } }; }), path: "tools.knowledge_base.mcp.tools.search", fix: "must be one of" },
  { name: "an MCP rate limit for an MCP tool not listed", props: docker((s) => { s.tools.knowledge_base.upstream = "https://mcp.example.com/mcp"; s.tools.knowledge_base.mcp = { tools: { search: "READ" }, rateLimits: { serch: { maxCalls: 1, windowSec: 60 } } }; }), path: "tools.knowledge_base.mcp.rateLimits.serch", fix: "listed in mcp.tools" },
  { name: "an unknown key delivery", props: docker((s) => { s.tools.database.key = { delivery: "sidecar" }; }), path: "tools.database.key.delivery", fix: "delivery must be one of" },
  { name: "an existing Redis over http", props: docker((s) => { s.gateway = { redis: { url: "http://redis:6379" } }; }), path: "gateway.redis.url", fix: "rediss://host:port for TLS" },
  { name: "an existing Redis with a password in its URL", props: docker((s) => { s.gateway = { redis: { url: "redis://:hunter2@redis:6379" } }; }), path: "gateway.redis.url", fix: "gateway.redis.credentialsSecret" },
  { name: "gateway replicas on Docker", props: docker((s) => { s.gateway = { replicas: 3 }; }), path: "gateway.replicas", fix: "Docker runs one gateway container" },
  { name: "one gateway replica on Kubernetes", props: kubernetes((s) => { s.gateway = { replicas: 1 }; }), path: "gateway.replicas", fix: "at least 2" },
  { name: "a gateway subnet inside the agent pool", props: docker((s) => { s.docker = { gatewaySubnet: "172.30.200.0/24" }; }), path: "docker.gatewaySubnet", fix: "overlaps the agent pool 172.30.0.0/16" },
  { name: "a gateway subnet too small to split", props: docker((s) => { s.docker = { gatewaySubnet: "172.31.200.0/28" }; }), path: "docker.gatewaySubnet", fix: "prefix from /16 to /26" },
  { name: "a Vault address that is no URL", props: docker((s) => { s.vault = { address: "vault:8200" }; }), path: "vault.address", fix: "such as https://vault.example.com:8200" },
  { name: "an agent address the engine hands out", props: docker((s) => { s.agents[0].ipv4Address = "172.30.16.200"; }), path: "agents[0].ipv4Address", fix: "the engine the upper half" },
  { name: "an agent address that is not an address", props: docker((s) => { s.agents[0].ipv4Address = "172.30.0.300"; }), path: "agents[0].ipv4Address", fix: "write one from 172.30.16.4 to 172.30.16.127" },
  { name: "more agents than a role's subnet holds", props: docker((s) => { s.docker = { roleSubnetPrefix: 28 }; s.agents = Array.from({ length: 8 }, (_, i) => ({ name: `agent-${i}`, image: "openclaw/agent:latest", role: "research_agent" })); }), path: "agents", fix: "give the role a larger subnet" },
  { name: "a recorded subnet outside the pool", props: docker((s) => { s.allocations = { research_agent: { subnet: "10.1.0.0/24" } }; }), path: "allocations.research_agent.subnet", fix: "restore them, or delete the allocations" },
  { name: "two roles recorded on one Kubernetes slot", props: kubernetes((s) => { s.allocations = { customer_support: { slot: 0 }, research_agent: { slot: 0 } }; }), path: "allocations.research_agent.slot", fix: "delete one of the two entries" },
  { name: "a pinned subnet for an unknown role", props: docker((s) => { s.docker = { roleSubnets: { reserch_agent: "10.8.0.0/24" } }; }), path: "docker.roleSubnets.reserch_agent", fix: 'did you mean "research_agent"?' },
  { name: "two roles pinned to overlapping subnets", props: docker((s) => { s.docker = { roleSubnets: { customer_support: "10.8.0.0/16", research_agent: "10.8.1.0/24" } }; }), path: "docker.roleSubnets.research_agent", fix: "give each role its own range" },
  { name: "a pool too small for role subnets", props: docker((s) => { s.docker = { subnet: "172.30.0.0/24" }; }), path: "docker.subnet", fix: "use a pool with a shorter prefix" },
  { name: "a user on Kubernetes", props: kubernetes((s) => { s.agents[0].user = "0"; }), path: "agents[0].user", fix: "Kubernetes agents run as uid 10001" },
  { name: "a user that is not a user", props: docker((s) => { s.agents[0].user = "root; rm"; }), path: "agents[0].user", fix: "such as 10001:10001" },
  { name: "proxy memory that is not a size", props: docker((s) => { s.proxy = { memory: "lots" }; }), path: "proxy.memory", fix: "such as 512M or 2G" },
  { name: "proxy limits on Kubernetes", props: kubernetes((s) => { s.proxy = { processLimit: 100 }; }), path: "proxy.processLimit", fix: "the Kubernetes proxy has fixed requests and limits" },
  { name: "replicas on Docker", props: docker((s) => { s.agents[0].replicas = 2; }), path: "agents[0].replicas", fix: "on Docker declare one agent per container (remove it)" },
  { name: "500 replicas on Kubernetes", props: kubernetes((s) => { s.agents[0].replicas = 500; }), path: "agents[0].replicas", fix: "must be at most 100" },
  { name: "a fixed address on Kubernetes", props: kubernetes((s) => { s.agents[0].ipv4Address = "172.30.0.10"; }), path: "agents[0].ipv4Address", fix: "Kubernetes assigns pod addresses (remove it)" },
  { name: "env overriding HTTPS_PROXY", props: docker((s) => { s.agents[0].env = { HTTPS_PROXY: "http://203.0.113.9:3128" }; }), path: "agents[0].env.HTTPS_PROXY", fix: "remove it from env" },
  { name: "env overriding https_proxy (lower case)", props: kubernetes((s) => { s.agents[0].env = { https_proxy: "http://203.0.113.9:3128" }; }), path: "agents[0].env.https_proxy", fix: "remove it from env" },
  { name: "env overriding NO_PROXY", props: docker((s) => { s.agents[1].env = { NO_PROXY: "*" }; }), path: "agents[1].env.NO_PROXY", fix: "remove it from env" },
  { name: "env setting a RAPIDCLAW_ variable", props: kubernetes((s) => { s.agents[0].env = { RAPIDCLAW_ROLE: "customer_support" }; }), path: "agents[0].env.RAPIDCLAW_ROLE", fix: "remove it from env" },
  { name: "an env name that is not a variable name", props: docker((s) => { s.agents[0].env = { "LOG-LEVEL": "debug" }; }), path: "agents[0].env.LOG-LEVEL", fix: 'use letters, digits and "_"' },
  { name: "an env value Terraform would evaluate", props: docker((s) => { s.agents[0].env = { HOME_DIR: '${file("/etc/passwd")}' }; }), path: "agents[0].env.HOME_DIR", fix: 'write "$${" or "%%{" for the literal text' },
  { name: "an env value that is a number", props: docker((s) => { s.agents[0].env = { WORKERS: 4 }; }), path: "agents[0].env.WORKERS", fix: "an environment value must be a string" },

  // Ports and platform options.
  { name: "a proxy port below 1025", props: docker((s) => { s.proxy = { port: 80 }; }), path: "proxy.port", fix: "port must be at least 1025" },
  { name: "Kubernetes role ports past 65535", props: kubernetes((s) => { s.proxy = { port: 65_000 }; for (let i = 0; i < 600; i++) s.roles[`r${i}`] = {}; }), path: "proxy.port", fix: "choose proxy.port 64934 or lower" },
  { name: "a wildcard in proxy.noProxy", props: docker((s) => { s.proxy = { noProxy: ["*.vault.internal"] }; }), path: "proxy.noProxy[0]", fix: "list each host" },
  { name: "a decimal IP in proxy.noProxy", props: kubernetes((s) => { s.proxy = { noProxy: ["167772165"] }; }), path: "proxy.noProxy[0]", fix: "write it in dotted form" },
  { name: "a URL in proxy.noProxy", props: docker((s) => { s.proxy = { noProxy: ["https://vault.internal:8200"] }; }), path: "proxy.noProxy[0]", fix: "write only its host name" },
  { name: "egressCidrs on Docker, which has no route for them", props: docker((s) => { s.roles.research_agent.network.egressCidrs = [{ cidr: "10.20.0.0/16", ports: [5432] }]; }), path: "roles.research_agent.network.egressCidrs", fix: "remove it" },
  { name: "an ingress port of 0", props: kubernetes((s) => { s.kubernetes = { ingress: { namespaceLabels: { team: "web" }, port: 0 } }; }), path: "kubernetes.ingress.port", fix: "port must be at least 1" },
  { name: "ingress from every namespace (no labels)", props: kubernetes((s) => { s.kubernetes = { ingress: { namespaceLabels: {}, port: 8080 } }; }), path: "kubernetes.ingress.namespaceLabels", fix: "list the labels of the namespaces allowed to connect" },
  { name: "an ingress label key that is not a label key", props: kubernetes((s) => { s.kubernetes = { ingress: { namespaceLabels: { "team name": "web" }, port: 8080 } }; }), path: "kubernetes.ingress.namespaceLabels.team name", fix: "write a name of letters, digits" },
  { name: "Docker options on Kubernetes", props: kubernetes((s) => { s.docker = { subnet: "172.30.0.0/24" }; }), path: "docker", fix: "remove them or set platform: docker" },
  { name: "Kubernetes options on Docker", props: docker((s) => { s.kubernetes = { existingNamespace: true }; }), path: "kubernetes", fix: "remove them or set platform: kubernetes" },
  { name: "a namespace on Docker", props: docker((s) => { s.namespace = "ai-agents"; }), path: "namespace", fix: "remove it" },
  { name: "proxy replicas on Docker", props: docker((s) => { s.proxy = { replicas: 2 }; }), path: "proxy.replicas", fix: "Docker runs one proxy container (remove it)" },
  { name: "a proxy image with spaces", props: docker((s) => { s.proxy = { image: "ubuntu squid" }; }), path: "proxy.image", fix: "such as registry.example.com/rapidclaw/egress-proxy@sha256" },
  { name: "a Docker subnet overlapping the egress subnet", props: docker((s) => { s.docker = { subnet: "172.31.0.0/16" }; }), path: "docker.egressSubnet", fix: "choose disjoint ranges" },
  { name: "a Docker pool of /7", props: docker((s) => { s.docker = { subnet: "10.0.0.0/7" }; }), path: "docker.subnet", fix: "must have a prefix from /8 to /27" },
  { name: "a DNS server that is not an address", props: docker((s) => { s.docker = { dnsServers: ["dns.google"] }; }), path: "docker.dnsServers[0]", fix: "write the resolver's address" },
  { name: "a NodeLocal DNS address that is not an address", props: kubernetes((s) => { s.kubernetes = { nodeLocalDnsIp: "node-local" }; }), path: "kubernetes.nodeLocalDnsIp", fix: "usually listens on 169.254.20.10" },
  { name: "a Vault mount under sys/", props: docker((s) => { s.vault = { mountPath: "sys/keys" }; }), path: "vault.mountPath", fix: "use a path of your own, such as agent-keys" },
  { name: "a Vault mount path with a leading slash", props: docker((s) => { s.vault = { mountPath: "/agent-keys" }; }), path: "vault.mountPath", fix: "mountPath must be a path like agent-keys" },
  { name: "a plain-HTTP Kubernetes API address for Vault", props: kubernetes((s) => { s.vault = { kubernetesHost: "http://kubernetes.default.svc" }; }), path: "vault.kubernetesHost", fix: "must be an https:// URL" },
  { name: "a Vault token TTL of 5 seconds", props: docker((s) => { s.vault = { tokenTtlSeconds: 5 }; }), path: "vault.tokenTtlSeconds", fix: "must be at least 60" },
  { name: "an unknown key mode", props: docker((s) => { s.vault = { keyMode: "plaintext" }; }), path: "vault.keyMode", fix: 'must be one of "ephemeral", "managed", "external"' },
  { name: "an alert severity that does not exist", props: docker((s) => { s.monitoring = { rateLimited: { count: 10, windowSec: 300, severity: "high" } }; }), path: "monitoring.rateLimited.severity", fix: 'must be "info", "warning" or "critical"' },

  // Wrong types and unknown options.
  { name: "tools as a list", props: docker((s) => { s.tools = ["web_search"]; s.roles = {}; s.agents = []; }), path: "tools", fix: "tools must be a map of name to value" },
  { name: "roles as null", props: docker((s) => { s.roles = null; s.agents = []; }), path: "roles", fix: "roles must be a map of name to value" },
  { name: "role tools as a list", props: docker((s) => { s.roles.research_agent.tools = ["web_search"]; }), path: "roles.research_agent.tools", fix: "tools must be a map of name to value" },
  { name: "modelHosts as a string", props: docker((s) => { s.modelHosts = "api.anthropic.com"; }), path: "modelHosts", fix: "modelHosts must be a list" },
  { name: "no model hosts", props: kubernetes((s) => { s.modelHosts = []; }), path: "modelHosts", fix: "must list at least one host" },
  { name: "agents as a map", props: docker((s) => { s.agents = { "openclaw-agent": s.agents[0] }; }), path: "agents", fix: "agents must be a list" },
  { name: "a rate limit as null", props: docker((s) => { s.tools.web_search.rateLimit = null; }), path: "tools.web_search.rateLimit", fix: "rateLimit must be an object" },
  { name: "a rate limit given as a string", props: docker((s) => { s.tools.web_search.rateLimit.maxCalls = "20"; }), path: "tools.web_search.rateLimit.maxCalls", fix: "maxCalls must be a number" },
  { name: "allowEgress as a string", props: docker((s) => { s.roles.research_agent.network.allowEgress = "yes"; }), path: "roles.research_agent.network.allowEgress", fix: "must be true or false" },
  { name: "an unknown platform", props: docker((s) => { s.platform = "nomad"; }), path: "platform", fix: 'must be one of "docker", "kubernetes"' },
  { name: "no platform", props: docker((s) => { delete s.platform; }), path: "platform", fix: 'must be one of "docker", "kubernetes"' },
  { name: "a misspelt top-level option", props: docker((s) => { s.modelHost = s.modelHosts; }), path: "modelHost", fix: 'did you mean "modelHosts"?' },
  { name: "a misspelt tool option", props: docker((s) => { s.tools.web_search.rateLimits = s.tools.web_search.rateLimit; }), path: "tools.web_search.rateLimits", fix: 'did you mean "rateLimit"?' },
  { name: "a misspelt agent option", props: kubernetes((s) => { s.agents[0].memroy = "1G"; }), path: "agents[0].memroy", fix: 'did you mean "memory"?' },
  { name: "a misspelt role network option", props: kubernetes((s) => { s.roles.research_agent.network.allowedHost = ["arxiv.org"]; }), path: "roles.research_agent.network.allowedHost", fix: 'did you mean "allowedHosts"?' },
];

describe("bad input is refused before anything is synthesized", () => {
  it("has at least 50 distinct bad inputs", () => {
    expect(new Set(BAD_INPUTS.map((row) => row.name)).size).toBe(BAD_INPUTS.length);
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(50);
  });

  it.each(BAD_INPUTS)("refuses $name at $path", ({ props, path, fix }) => {
    const error = expectRefused(attempt(props));
    const atPath = error.problems.filter((problem) => problem.path === path);
    expect(atPath.map((problem) => problem.path), `problems: ${error.message}`).toContain(path);
    expect(atPath.some((problem) => problem.message.includes(fix)), `expected a problem at ${path} saying "${fix}"; got:\n${error.message}`).toBe(true);
    expect(error.message).toContain(fix);
  });

  it("gives every row the same structural verdict without zod as with it", () => {
    const differing = BAD_INPUTS.filter(({ props }) => {
      const input = props();
      return conformsTo(FIREWALL_PROPS_JSON_SCHEMA, input) !== firewallSpecSchema.safeParse(input).success;
    });
    expect(differing.map((row) => row.name)).toEqual([]);
  });

  it("accepts the seed scenarios the rows start from", () => {
    for (const props of [docker()(), kubernetes()()]) {
      const result = attempt(() => props);
      expect(result.error).toBeUndefined();
      expect(result.constructs).toBe(1);
    }
  });

  it("lists every problem of an input with many, each at its path", () => {
    const props = docker((s) => {
      s.modelHosts = ["*", "api.anthropic.com:443"];
      s.tools.web_search.rateLimit.maxCalls = 0;
      s.tools["web-search"] = {};
      s.roles.research_agent.tools.web_serch = "READ";
      s.roles.customer_support.network.egressCidrs = [{ cidr: "0.0.0.0/0", ports: [443] }];
      s.agents[0].memory = "lots";
      s.agents[1].env = { HTTPS_PROXY: "http://203.0.113.9:3128" };
      s.proxy = { port: 80 };
      s.vault = { tokenTtlSeconds: 5, mountPth: "x" };
    });
    const error = expectRefused(attempt(props));
    const expectedPaths = [
      "agents[0].memory",
      "agents[1].env.HTTPS_PROXY",
      "modelHosts[0]",
      "modelHosts[1]",
      "proxy.port",
      "roles.customer_support.network.egressCidrs",
      "roles.customer_support.network.egressCidrs[0].cidr",
      "roles.research_agent.tools.web_serch",
      "tools.web-search",
      "tools.web_search.rateLimit.maxCalls",
      "vault.mountPth",
      "vault.tokenTtlSeconds",
    ];
    expect(error.problems.map((p) => p.path).sort()).toEqual(expectedPaths.sort());
    // Each under the stack that found it, so that an app of several firewalls says which.
    for (const path of expectedPaths) expect(error.message).toContain(`  - agent-firewall: ${path}: `);
    expect(error.message).toContain(`${expectedPaths.length} problems`);
  });

  it("refuses a YAML file with a syntax error, naming the file and the line", () => {
    const directory = mkdtempSync(join(tmpdir(), "rapidclaw-bad-yaml-"));
    try {
      const file = join(directory, "firewall.yaml");
      writeFileSync(file, ["platform: docker", "modelHosts:", "  - api.anthropic.com", " tools: {}", "roles: {}", ""].join("\n"));
      const error = expectRefused(attempt(() => loadFirewallSpec(file)));
      expect(error.problems).toEqual([expect.objectContaining({ path: "", line: 4 })]);
      expect(error.message).toContain(`${file}:4:`);
      expect(error.message).toContain("must start at the same column");
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
