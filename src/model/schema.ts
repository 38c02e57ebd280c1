import type { z } from "zod";
import { describe, FIREWALL_NAME_PATTERN, MAX_FIREWALL_NAME_LENGTH, MAX_NAME_LENGTH, NAME_PATTERN } from "./name-rules";
import { AgentPlatform, AgentRuntime, AlertSeverity, Enforcement, KeyDelivery, KeyMode, ToolAccess, WebhookFormat, type FirewallSpecProps } from "./types";

export { describe, FIREWALL_NAME_PATTERN, MAX_FIREWALL_NAME_LENGTH, MAX_NAME_LENGTH, NAME_PATTERN };

/** zod, loaded on first use: typed props that are valid never need it (see validate.ts). */
export const zod = (): typeof import("zod") => require("zod");

// The schemas are built on first use, so that importing this module loads no zod. The body keeps
// the indentation of top-level code, as it was before it moved into the builder.
function buildSchemas() {
const z = zod();
const int = (what: string, min: number, max: number) =>
  z
    .number({ error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be a number, got ${describe(issue.input)}`) })
    .int({ error: `${what} must be a whole number` })
    .min(min, { error: `${what} must be at least ${min}` })
    .max(max, { error: `${what} must be at most ${max.toLocaleString("en-US")}` });

const bool = (what: string) => z.boolean({ error: (issue) => `${what} must be true or false, got ${describe(issue.input)}` });

const str = (what: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be a string, got ${describe(issue.input)}`) });

const list = <T extends z.ZodType>(what: string, item: T) =>
  z.array(item, { error: (issue) => `${what} must be a list, got ${describe(issue.input)}` });

const map = <T extends z.ZodType>(what: string, value: T) =>
  z.record(z.string(), value, { error: (issue) => `${what} must be a map of name to value, got ${describe(issue.input)}` });

const object = <T extends z.ZodRawShape>(what: string, shape: T) =>
  z.strictObject(shape, { error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be an object, got ${describe(issue.input)}`) });

const enumOf = <T extends Record<string, string>>(what: string, values: T) =>
  z.enum(values, { error: (issue) => `${what} must be one of ${Object.values(values).map((v) => `"${v}"`).join(", ")}, got ${describe(issue.input)}` });

const rateLimit = object("rateLimit", {
  maxCalls: int("maxCalls", 1, 1_000_000),
  windowSec: int("windowSec", 1, 86_400),
});

const tokenLimit = object("tokenLimit", {
  maxTokens: int("maxTokens", 1, 1_000_000_000),
  windowSec: int("windowSec", 1, 2_592_000),
});

const toolKey = object("key", {
  rotationHours: int("rotationHours", 1, 8_760).optional(),
  length: int("length", 16, 256).optional(),
  delivery: enumOf("delivery", KeyDelivery).optional(),
});

const tool = object("a tool", {
  permissions: list("permissions", str("a permission").regex(/^[a-z0-9_-]+:[a-z0-9_*-]+$/, { error: "a permission is written resource:action, e.g. db:read" })).optional(),
  rateLimit: rateLimit.optional(),
  tokenLimit: tokenLimit.optional(),
  mcp: object("mcp", { tools: map("tools", enumOf("an MCP tool's access", ToolAccess)), rateLimits: map("rateLimits", rateLimit).optional() }).optional(),
  key: toolKey.optional(),
  upstream: str("upstream").optional(),
  keyHeader: object("keyHeader", {
    name: str("name").regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "name must be an HTTP header name such as authorization or x-api-key" }),
    format: str("format").optional(),
  }).optional(),
  executeOperations: list("executeOperations", object("an operation", {
    method: str("method").regex(/^[A-Z]+$/, { error: "method must be an HTTP method in upper case, such as POST" }),
    path: str("path").meta({ description: "Path below the tool: exact (/v3/mail/send), a template whose {name} segments match any one segment (/repos/{owner}/{repo}/pulls/{number}/merge), or ending in /* for that path and everything below it (/v1/admin/*)." }),
  })).optional(),
  failOpen: bool("failOpen").optional(),
  enforcement: enumOf("enforcement", Enforcement).optional(),
  agentTools: object("agentTools", {
    openclaw: list("openclaw", str("an OpenClaw tool name")).optional(),
    hermes: list("hermes", str("a Hermes Agent tool name")).optional(),
  }).optional(),
});

const egressCidr = object("an egress CIDR", {
  cidr: str("cidr"),
  ports: list("ports", int("a port", 1, 65_535)).min(1, { error: "ports must list at least one port" }),
  allowPublic: bool("allowPublic").optional(),
  allowBroad: bool("allowBroad").optional(),
});

const role = object("a role", {
  tools: map("tools", enumOf("a tool access", ToolAccess)).optional(),
  limits: object("limits", {
    maxTokensPerTask: int("maxTokensPerTask", 1, 100_000_000).optional(),
    maxToolCallsPerTask: int("maxToolCallsPerTask", 1, 1_000_000).optional(),
    maxConcurrentTasks: int("maxConcurrentTasks", 1, 10_000).optional(),
  }).optional(),
  network: object("network", {
    allowEgress: bool("allowEgress").optional(),
    allowedHosts: list("allowedHosts", str("a host pattern")).optional(),
    egressCidrs: list("egressCidrs", egressCidr).optional(),
    multiTenantWildcards: list("multiTenantWildcards", str("a host pattern")).optional(),
    directToolHosts: list("directToolHosts", object("a direct tool host", { host: str("host"), reason: str("reason") })).optional(),
    dnsReason: str("dnsReason").optional(),
  }).optional(),
  allowFileSystem: bool("allowFileSystem").optional(),
  enforcement: enumOf("enforcement", Enforcement).optional(),
});

/** A container image reference: registry, repository, tag or digest; no spaces, quotes or `${`. */
const IMAGE_REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._\/:@-]*$/;

/** An image reference pinned by digest: `<name>@sha256:<64 hex digits>`, the name as above. */
const IMAGE_BY_DIGEST = /^[A-Za-z0-9][A-Za-z0-9._\/:-]*@sha256:[0-9a-f]{64}$/;

const agent = object("an agent", {
  name: str("name"),
  image: str("image").regex(IMAGE_REFERENCE, { error: "image must be an image reference such as openclaw/agent:1.4" }),
  role: str("role"),
  memory: str("memory").optional(),
  cpus: z.number({ error: (i) => `cpus must be a number, got ${describe(i.input)}` }).min(0.01, { error: "cpus must be at least 0.01" }).max(64, { error: "cpus must be at most 64" }).optional(),
  ipv4Address: str("ipv4Address").optional(),
  user: str("user").regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/, { error: "user must be uid, uid:gid or a user name, such as 10001:10001" }).optional(),
  processLimit: int("processLimit", 16, 65_536).optional(),
  replicas: int("replicas", 0, 100).optional(),
  env: map("env", str("an environment value")).optional(),
  runtime: enumOf("runtime", AgentRuntime).optional(),
});

const severity = z.enum(AlertSeverity, { error: (i) => `severity must be "info", "warning" or "critical", got ${describe(i.input)}` });

const threshold = object("an alert threshold", {
  count: int("count", 1, 1_000_000),
  windowSec: int("windowSec", 1, 86_400),
  severity,
});

const envName = (what: string) => str(what).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: `${what} must be an environment variable name such as SLACK_WEBHOOK_URL` });
const absoluteFile = (what: string) => str(what).regex(/^\/[^\0]*$/, { error: `${what} must be an absolute path such as /vault/secrets/slack-url` });

/** Cross-field rules (which of urlEnv/urlFile/routingKey*) are checked in `validate.ts`. */
const webhook = object("a webhook", {
  severity,
  format: enumOf("format", WebhookFormat),
  urlEnv: envName("urlEnv").optional(),
  urlFile: absoluteFile("urlFile").optional(),
  routingKeyEnv: envName("routingKeyEnv").optional(),
  routingKeyFile: absoluteFile("routingKeyFile").optional(),
  kubernetesSecret: str("kubernetesSecret").regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, { error: "kubernetesSecret must be a Secret name such as alert-webhooks" }).optional(),
  vaultSecret: str("vaultSecret").regex(/^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*$/, { error: "vaultSecret must be a secret name under webhooks/, such as slack-oncall (lower-case segments of letters, digits, _ and -, joined by /)" }).optional(),
});

/** Structural schema of `FirewallSpecProps`; cross-references are checked in `validate.ts`. */
const firewallSpecSchema = object("the firewall spec", {
  platform: enumOf("platform", AgentPlatform),
  name: str("name").optional(),
  namespace: str("namespace").optional(),
  modelHosts: list("modelHosts", str("a host pattern")).min(1, { error: "modelHosts must list at least one host: agents cannot work without their model API" }),
  multiTenantWildcards: list("multiTenantWildcards", str("a host pattern")).optional(),
  tools: map("tools", tool),
  roles: map("roles", role),
  agents: list("agents", agent).optional(),
  proxy: object("proxy", {
    image: str("image").regex(IMAGE_REFERENCE, { error: "image must be an image reference such as registry.example.com/rapidclaw/egress-proxy@sha256:<digest>" }).optional(),
    port: int("port", 1025, 65_000).optional(),
    allowPlainHttp: bool("allowPlainHttp").optional(),
    noProxy: list("noProxy", str("a host")).optional(),
    replicas: int("replicas", 1, 20).optional(),
    forbiddenCidrs: list("forbiddenCidrs", str("a CIDR")).optional(),
    enforcement: enumOf("enforcement", Enforcement).optional(),
    maxConnectionsPerClient: int("maxConnectionsPerClient", 16, 100_000).optional(),
    requestStartTimeoutSec: int("requestStartTimeoutSec", 5, 600).optional(),
    memory: str("memory").optional(),
    cpus: z.number({ error: (i) => `cpus must be a number, got ${describe(i.input)}` }).min(0.01, { error: "cpus must be at least 0.01" }).max(64, { error: "cpus must be at most 64" }).optional(),
    processLimit: int("processLimit", 16, 65_536).optional(),
  }).optional(),
  docker: object("docker", {
    subnet: str("subnet").optional(),
    roleSubnetPrefix: int("roleSubnetPrefix", 16, 28).optional(),
    roleSubnets: map("roleSubnets", str("a subnet")).optional(),
    egressSubnet: str("egressSubnet").optional(),
    gatewaySubnet: str("gatewaySubnet").optional(),
    dnsServers: list("dnsServers", str("a DNS server")).optional(),
  }).optional(),
  kubernetes: object("kubernetes", {
    existingNamespace: bool("existingNamespace").optional(),
    nodeLocalDnsIp: str("nodeLocalDnsIp").optional(),
    ingress: object("ingress", {
      namespaceLabels: map("namespaceLabels", str("a label value")),
      port: int("port", 1, 65_535),
    }).optional(),
  }).optional(),
  vault: object("vault", {
    mountPath: str("mountPath").regex(/^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*$/, { error: "mountPath must be a path like agent-keys (lower case, digits, _ and -, no leading or trailing slash)" }).optional(),
    keyMode: enumOf("keyMode", KeyMode).optional(),
    authPath: str("authPath").regex(/^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*$/, { error: "authPath must be a path like kubernetes" }).optional(),
    existingAuthMount: bool("existingAuthMount").optional(),
    kubernetesHost: str("kubernetesHost").regex(/^https:\/\/[^\s]+$/, { error: "kubernetesHost must be an https:// URL" }).optional(),
    tokenTtlSeconds: int("tokenTtlSeconds", 60, 86_400).optional(),
    address: str("address").regex(/^https?:\/\/[^/\s"$%{}]+\/?$/, { error: "address must be Vault's URL, such as https://vault.example.com:8200" }).optional(),
  }).optional(),
  gateway: object("gateway", {
    port: int("port", 1, 65_535).optional(),
    listeners: list("listeners", object("a listener", {
      port: int("port", 1, 65_535),
      address: str("address").optional(),
      role: str("role").optional(),
    })).optional(),
    sourceNetworks: list("sourceNetworks", object("a source network", { cidr: str("cidr"), role: str("role") })).optional(),
    limiterTimeoutMs: int("limiterTimeoutMs", 10, 10_000).optional(),
    image: str("image").regex(IMAGE_BY_DIGEST, { error: "image must be your gateway image by digest, such as registry.example.com/rapidclaw-gateway@sha256:<64 hex digits> (built from images/gateway/Dockerfile); leave it unset to run the package's bundle in the stock Node image" }).optional(),
    replicas: int("replicas", 2, 20).optional(),
    redis: object("redis", {
      url: str("url"),
      credentialsSecret: str("credentialsSecret").regex(/^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*$/, { error: "credentialsSecret must be a secret name in the firewall's mount, such as redis/gateway" }).optional(),
    }).optional(),
  }).optional(),
  monitoring: object("monitoring", {
    rateLimited: threshold.optional(),
    permissionDenied: threshold.optional(),
    networkBlocked: threshold.optional(),
    tokenBudgetExceeded: threshold.optional(),
    webhooks: list("webhooks", webhook).optional(),
  }).optional(),
  enforcement: enumOf("enforcement", Enforcement).optional(),
  allocations: map("allocations", object("a role allocation", {
    slot: int("slot", 0, 64_000).optional(),
    subnet: str("subnet").optional(),
  })).optional(),
});

return { firewallSpecSchema };
}

let built: ReturnType<typeof buildSchemas> | undefined;

/** The zod schemas, built (and zod loaded) on first use. */
export function zodSchemas(): ReturnType<typeof buildSchemas> {
  built ??= buildSchemas();
  return built;
}

/** Structural schema of `FirewallSpecProps`; cross-references are checked in `validate.ts`. */
export type FirewallSpecSchema = ReturnType<typeof buildSchemas>["firewallSpecSchema"];

/**
 * T with every property required, all the way down: optional properties are assignable both
 * ways, so without this an option only one side has would go unnoticed.
 */
type EveryOption<T> = T extends ReadonlyArray<infer U> ? EveryOption<U>[] : T extends object ? { -readonly [K in keyof T]-?: EveryOption<Exclude<T[K], undefined>> } : T;

/** `true` when each of A and B is assignable to the other. */
type MutuallyAssignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * Compile-time check that the schema accepts exactly the public prop types, option for option
 * and type for type: when one of them changes without the other, `tsc` fails here.
 */
export const SCHEMA_MATCHES_PROPS: MutuallyAssignable<EveryOption<z.input<FirewallSpecSchema>>, EveryOption<FirewallSpecProps>> = true;

/** Option names that exist at `path` of `root` (for "did you mean" on unknown keys). */
export function knownKeysAt(path: ReadonlyArray<PropertyKey>, root: z.ZodType = zodSchemas().firewallSpecSchema): string[] {
  const z = zod();
  let schema: z.ZodType = root;
  for (const key of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(key)];
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    if (schema === undefined) return [];
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  const z = zod();
  let current = schema;
  while (current instanceof z.ZodOptional) current = current.unwrap() as z.ZodType;
  return current;
}

/** The snake_case spelling role profiles use for an option: `maxTokensPerTask` → `max_tokens_per_task`. */
export function snakeCaseOption(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
