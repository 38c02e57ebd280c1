/**
 * Public description of an agent fleet: tools, roles, agents and the options of each layer.
 * Plain readonly interfaces and string enums so the API stays jsii-friendly; the zod schemas in
 * `schema.ts` validate values of these types and stay internal.
 */

/** Where the agents run. */
export enum AgentPlatform {
  /** Docker Engine (>= 26.0.0): one internal network per role, Squid container, agent containers, Vault AppRole. */
  DOCKER = "docker",
  /** Kubernetes: namespace, NetworkPolicies, Squid Deployment, agent Deployments, Vault Kubernetes auth. */
  KUBERNETES = "kubernetes",
}

/** Access a role has to a tool, ordered DENY < READ < WRITE < EXECUTE. */
export enum ToolAccess {
  DENY = "DENY",
  READ = "READ",
  WRITE = "WRITE",
  EXECUTE = "EXECUTE",
}

/**
 * The agent program an agent's image runs, whose own configuration the firewall mounts into it
 * (the role's tool policy and the hook that asks the tool gateway before every tool call).
 */
export enum AgentRuntime {
  /** OpenClaw (2026.9.x): `openclaw.json` at `OPENCLAW_CONFIG_PATH`, read-only, and the gateway-check plugin. */
  OPENCLAW = "openclaw",
  /** Hermes Agent: `config.yaml` in `HERMES_HOME` and the `pre_tool_call` hook run by Node from the package's bundle. */
  HERMES = "hermes",
}

/** How tool keys reach Vault, and therefore where their values are stored. */
export enum KeyMode {
  /**
   * An ephemeral `random_password` feeds the write-only `data_json_wo` argument; the key is in
   * neither the plan nor the state. Needs Terraform >= 1.11 or OpenTofu >= 1.11.
   */
  EPHEMERAL = "ephemeral",
  /** A managed `random_password` with rotation keepers: works on older Terraform, the key is in state. */
  MANAGED = "managed",
  /** An operator writes the key (a vendor's API key) into Vault; Terraform never manages the value. */
  EXTERNAL = "external",
}

/**
 * Whether the gateway refuses what its rules refuse (`ENFORCE`), or lets it through and raises a
 * `would_deny` event instead (`AUDIT`, shadow mode), to see what a firewall would refuse before
 * it does.
 */
export enum Enforcement {
  /** Refuse: the answer the rule gives (403, 429) and its event. */
  ENFORCE = "enforce",
  /** Let through and raise `would_deny`, naming the refusal the rule would have given. */
  AUDIT = "audit",
}

/** Who holds a tool's key at run time. */
export enum KeyDelivery {
  /**
   * Only the tool gateway's Vault identity reads the key; it injects the key into the calls it
   * forwards, and agents get a base URL, never the key. Needs the tool's `upstream`.
   */
  GATEWAY = "gateway",
  /**
   * The key goes to the agents of every role that may use the tool (the role's Vault policy and
   * login): for tools the gateway cannot front, such as a database driver or an SDK that must
   * hold its own credential.
   */
  AGENT = "agent",
}

/** A sliding-window rate limit: at most `maxCalls` calls in any `windowSec` seconds. */
export interface RateLimitProps {
  /** Calls allowed per window; an integer from 1 to 1,000,000. */
  readonly maxCalls: number;
  /** Window length in seconds; an integer from 1 to 86,400 (one day). */
  readonly windowSec: number;
}

/** A token budget: at most `maxTokens` model tokens (input and output, as the API reports them) in any `windowSec` seconds. */
export interface TokenLimitProps {
  /** Tokens allowed per window; an integer from 1 to 1,000,000,000. */
  readonly maxTokens: number;
  /** Window length in seconds; an integer from 1 to 2,592,000 (30 days). */
  readonly windowSec: number;
}

/** A tool that fronts an MCP server (Streamable HTTP transport) at its `upstream`. */
export interface McpToolsProps {
  /**
   * The MCP server's tools agents may see and call, by the name the server gives them, each with
   * the access a role needs on this tool to list and call it (`tools/call` of `delete_issue:
   * WRITE` needs WRITE). A tool the server offers that is not listed here is hidden from
   * `tools/list` and refused. Other MCP requests (initialize, ping, resources, prompts) need READ.
   */
  readonly tools: Record<string, ToolAccess>;
  /**
   * Sliding-window limits per role on `tools/call` of single MCP tools (by name, each one listed
   * in `tools`), on top of the tool's own `rateLimit`, which every MCP request counts against.
   * @default - none
   */
  readonly rateLimits?: Record<string, RateLimitProps>;
}

/** The scoped key of a tool. */
export interface ToolKeyProps {
  /**
   * Hours between rotations; an integer from 1 to 8,760 (one year).
   * @default 24
   */
  readonly rotationHours?: number;
  /**
   * Length of a generated key in characters, 16 to 256. Ignored for `KeyMode.EXTERNAL`.
   * @default 48
   */
  readonly length?: number;
  /**
   * Who reads the key: the tool gateway alone (`KeyDelivery.GATEWAY`, which needs the tool's
   * `upstream`), or the agents of the roles that may use the tool (`KeyDelivery.AGENT`, only
   * without `upstream`: the gateway strips the credentials agents send).
   * @default - KeyDelivery.GATEWAY when the tool has an `upstream`, else KeyDelivery.AGENT
   */
  readonly delivery?: KeyDelivery;
}

/** A tool agents may call. */
export interface ToolProps {
  /**
   * Permission scopes the tool's key carries, `resource:action` (for example `db:read`). A tool
   * whose scopes all end in `:read` is read-only: no role may hold WRITE or EXECUTE on it.
   * @default - no scopes
   */
  readonly permissions?: string[];
  /**
   * Sliding-window limit on calls to the tool, per role: every agent of a role shares it, across
   * every gateway replica.
   * @default - no limit
   */
  readonly rateLimit?: RateLimitProps;
  /**
   * Token budget per role for a model API (Anthropic Messages, OpenAI Chat Completions and
   * Responses): tokens are counted from the usage each answer reports (JSON or SSE; a stream cut
   * short counts what it reported), shared across gateway replicas in Redis, and a call is
   * refused with 429 `token_budget_exceeded` once the window's sum has reached `maxTokens`. Calls
   * already under way when the sum is reached still finish, so a window can overshoot by what
   * they use.
   * @default - no token budget
   */
  readonly tokenLimit?: TokenLimitProps;
  /**
   * The upstream is an MCP server: the gateway reads each JSON-RPC request, lets each role list
   * and call only the MCP tools its access allows, and filters `tools/list` answers.
   * @default - not an MCP server: calls are decided by HTTP method and path
   */
  readonly mcp?: McpToolsProps;
  /**
   * The tool's scoped key in Vault. A tool without `key` holds no secret and appears in no policy.
   * @default - no key
   */
  readonly key?: ToolKeyProps;
  /**
   * Where the tool gateway forwards the tool's calls (`/tools/<tool>/...`): an `https://` URL
   * whose host is a host name written like an allowed host (no wildcard), optionally with a port
   * and a base path; no user name, password, query or fragment. Model APIs are tools too
   * (`https://api.anthropic.com`).
   * @default - no upstream: the tool is reachable only through the gateway's check endpoint
   */
  readonly upstream?: string;
  /**
   * How the gateway injects the tool's key into forwarded calls.
   * @default { name: "authorization", format: "Bearer {key}" }
   */
  readonly keyHeader?: KeyHeaderProps;
  /**
   * Calls through the gateway that need EXECUTE access (for example `POST /v3/mail/send`, or
   * `PUT /repos/{owner}/{repo}/pulls/{number}/merge`); others need READ (GET, HEAD, OPTIONS) or
   * WRITE (any other method).
   * @default []
   */
  readonly executeOperations?: ToolOperationProps[];
  /**
   * Let calls through when the gateway cannot reach its rate limiter (Redis), instead of
   * refusing them with 503. Each such call still raises a `limiter_unavailable` event.
   * @default false
   */
  readonly failOpen?: boolean;
  /**
   * Shadow mode for this tool: `audit` lets calls the gateway would refuse (permission, rate
   * limit, token budget) through and raises `would_deny` events instead. Wins over the role's
   * and the firewall's `enforcement`.
   * @default - the role's `enforcement`, else the firewall's
   */
  readonly enforcement?: Enforcement;
  /**
   * The tool's names in the agents' own configuration, for the native OpenClaw and Hermes Agent
   * fragments and their gateway hooks. Omit an agent to take the default; `[]` for none.
   * @default - the tool's own name where that agent has a built-in tool of that name (`web_search` in both), else none
   */
  readonly agentTools?: AgentToolNamesProps;
}

/**
 * One of our tools as each agent names it. An agent tool stands for one of our tools only; list
 * names one by one (no groups, no wildcards).
 */
export interface AgentToolNamesProps {
  /**
   * OpenClaw tool ids (2026.9.6 core tools such as `web_fetch`, `exec`, `read`, or plugin tools).
   * @default - the default of `ToolProps.agentTools`
   */
  readonly openclaw?: string[];
  /**
   * Hermes Agent tool names from its core toolsets (`web_extract`, `terminal`, `read_file` …).
   * @default - the default of `ToolProps.agentTools`
   */
  readonly hermes?: string[];
}

/** The header that carries a tool's key to its upstream. */
export interface KeyHeaderProps {
  /** Header name, such as `authorization` or `x-api-key` (compared without case). */
  readonly name: string;
  /**
   * Header value, with `{key}` where the key goes (exactly once).
   * @default "{key}"
   */
  readonly format?: string;
}

/** A call that needs EXECUTE access: a method and a path below the tool's upstream. */
export interface ToolOperationProps {
  /** HTTP method in upper case, such as `POST`. */
  readonly method: string;
  /**
   * Path below the tool (what follows `/tools/<tool>`), starting with `/`: exact, a template, or a prefix.
   *
   * Exact: `/v3/mail/send`. Template: each `{name}` segment matches any one segment
   * (`/repos/{owner}/{repo}/pulls/{number}/merge`). Prefix: ending in `/*`, that path and every
   * path below it (`/v1/admin/*`). Literal segments are plain ASCII (letters, digits, `-._~!$&'()+,=:@`),
   * without `%`, `;` or empty segments. Requests match on their effective path: percent-decoded,
   * without case, `;params`, repeated or trailing slashes, and with or without a `.format` suffix
   * on the last segment (see the README's tool gateway section).
   */
  readonly path: string;
}

/** A listener of the tool gateway. */
export interface GatewayListenerProps {
  /** TCP port, 1 to 65535. */
  readonly port: number;
  /**
   * Local address to listen on; callers are told apart by the (address, port) they reached.
   * @default - the gateway's `--listen-host`
   */
  readonly address?: string;
  /**
   * Role of every caller on this listener (the network must let only that role reach it). Omit
   * to identify callers by their source address through `sourceNetworks`.
   * @default - by source address
   */
  readonly role?: string;
}

/** A caller network of one role, for listeners without a role (one Docker network per role). */
export interface GatewaySourceNetworkProps {
  /** IPv4 or IPv6 network in CIDR notation. */
  readonly cidr: string;
  /** The role of every caller from that network. */
  readonly role: string;
}

/** Options of the tool gateway (`rapidclaw gateway`). */
export interface GatewayOptions {
  /**
   * First port of the default listeners: role number i (in name order) gets `port + i`.
   * @default 8080
   */
  readonly port?: number;
  /**
   * The listeners, each telling its callers' role by where they connected. Identity comes from
   * the network only, never from a header.
   * @default - one per role on `port + i`
   */
  readonly listeners?: GatewayListenerProps[];
  /**
   * Roles by source network, for listeners without a role.
   * @default []
   */
  readonly sourceNetworks?: GatewaySourceNetworkProps[];
  /**
   * Longest wait for a rate-limit decision from Redis, in milliseconds (10 to 10,000); past it the
   * call is refused with 503 (or let through for `failOpen` tools).
   * @default 250
   */
  readonly limiterTimeoutMs?: number;
  /**
   * Your copy of the gateway image, by digest (`<registry>/<name>@sha256:<64 hex digits>`),
   * built from the package's `images/gateway/Dockerfile` (the bundle at
   * `/opt/rapidclaw/rapidclaw-gateway.cjs`, uid 10002): the gateway and proxy-events run it as
   * it is, and no bundle is uploaded or put in a ConfigMap. Build it from the version of the
   * package that synthesizes the stack.
   * @default - the stock Node image `node:22.12.0-bookworm-slim`, with the package's bundle
   * delivered by the platform (Docker: uploaded from a file asset; Kubernetes: ConfigMap parts)
   */
  readonly image?: string;
  /**
   * Kubernetes only: replicas of the gateway's Deployment, at least 2 (a PodDisruptionBudget
   * keeps one up); rate limits hold across replicas since they share Redis.
   * @default 2
   */
  readonly replicas?: number;
  /**
   * An existing Redis for the rate limits instead of the bundled one (a Redis container or
   * Deployment only the gateway reaches).
   * @default - a bundled Redis
   */
  readonly redis?: GatewayRedisProps;
}

/** An existing Redis the gateway uses instead of the bundled one. */
export interface GatewayRedisProps {
  /**
   * `redis://host:port` or, with TLS, `rediss://host:port`; an optional database number path
   * (`/0`); no user name or password (give them in `credentialsSecret`).
   */
  readonly url: string;
  /**
   * Name of a KV v2 secret in the firewall's Vault mount (`vault.mountPath`), such as
   * `redis/gateway`, with the fields `username` and `password` (`default` and the `requirepass`
   * for a Redis without ACL users). The gateway's Vault Agent renders them (mode 0400) to
   * `/run/rapidclaw/keys/redis-credentials.json`, the gateway's policy reads exactly this secret
   * besides its keys, and the gateway logs both its Redis connections in with them
   * (`--redis-credentials-file`, read once at start). Needs `vault.address`.
   * @default - no credentials
   */
  readonly credentialsSecret?: string;
}

/**
 * Per-task limits of a role, enforced by the gateway. A task is one run of an agent (OpenClaw's
 * run, Hermes' task); the agents' hooks open and end tasks and name them in each check. With
 * `maxConcurrentTasks`, role-wide windows of an hour back the per-task limits (per-task limit ×
 * `maxConcurrentTasks`), so an agent that mints task ids gains nothing.
 */
export interface RoleLimitsProps {
  /**
   * Tokens the model answers of one task may report. Its next POST through the gateway is refused
   * with 429 `task_limit_exceeded` once they reach it. Calls are tied to a task by the `x-rapidclaw-task`
   * header, which OpenClaw and Hermes cannot send: for them it holds through the role's window.
   * @default - no limit
   */
  readonly maxTokensPerTask?: number;
  /**
   * Checks (tool calls) one task may make. The next one is refused with 429 `task_limit_exceeded`.
   * @default - no limit
   */
  readonly maxToolCallsPerTask?: number;
  /**
   * Tasks of the role open at once. One more is refused with 429 `concurrent_tasks_exceeded`; a
   * task no check or call renewed for 600 s gives its slot back.
   * @default - no limit
   */
  readonly maxConcurrentTasks?: number;
}

/** Egress by address range, for internal backends that have no hostname the proxy could check. */
export interface EgressCidrProps {
  /** An IPv4 or IPv6 network in CIDR notation with no host bits set; never `0.0.0.0/0` or `::/0`. */
  readonly cidr: string;
  /** TCP ports allowed to that range, 1 to 65535. */
  readonly ports: number[];
  /**
   * Acknowledges that `cidr` holds public internet addresses (your own public range, say), which
   * direct egress reaches without the proxy. Without it a public range is refused.
   * @default false
   */
  readonly allowPublic?: boolean;
  /**
   * Acknowledges that `cidr` is broader than /8 (IPv4) or /32 (IPv6). Without it such a range
   * is refused.
   * @default false
   */
  readonly allowBroad?: boolean;
}

/** Network rights of a role. */
export interface RoleNetworkProps {
  /**
   * Whether the role may reach `allowedHosts` besides the model hosts.
   * @default false
   */
  readonly allowEgress?: boolean;
  /**
   * Host patterns reachable through the proxy when `allowEgress` is true: `api.example.com`
   * (exactly that host) or `*.example.com` (any subdomain, not the apex).
   * @default []
   */
  readonly allowedHosts?: string[];
  /**
   * Direct egress by CIDR, bypassing the proxy (Kubernetes NetworkPolicy, host firewall).
   * @default []
   */
  readonly egressCidrs?: EgressCidrProps[];
  /**
   * Wildcards of `allowedHosts` that span many tenants' hosts (`*.amazonaws.com`,
   * `*.windows.net`, `*.nip.io` …: any customer's bucket, function or API lives there), each
   * repeated here to accept that; without it such a pattern is refused. Prefer exact hosts.
   * @default []
   */
  readonly multiTenantWildcards?: string[];
  /**
   * Hosts the tool gateway fronts (a tool's `upstream` host) that this role may still reach
   * directly through the proxy, past the gateway's permission check, rate limit and key custody,
   * each with the reason. Without an entry here, a model host or an allowed host (exact, or a
   * wildcard covering it) that reaches such a host is refused.
   * @default []
   */
  readonly directToolHosts?: DirectToolHostProps[];
  /**
   * Lets the role's agents query DNS, giving the reason they need it (repeated in the warning
   * synthesis prints). A resolver that recurses carries data out in the names it is asked for
   * (DNS tunnelling), whatever the proxy allows, so agents resolve nothing by default: they reach
   * the proxy and the gateway by address. With a reason, Kubernetes pods of the role keep the
   * cluster DNS (`dnsPolicy: ClusterFirst`, egress to kube-dns and `kubernetes.nodeLocalDnsIp` on
   * port 53) and Docker agents keep the engine's resolver. One line, 10 to 200 characters.
   * @default - no DNS: Kubernetes pods get `dnsPolicy: None` with a nameserver that answers nothing, Docker agents a resolver address that goes nowhere
   */
  readonly dnsReason?: string;
}

/** A gateway-fronted host one role reaches directly on purpose (`RoleNetworkProps.directToolHosts`). */
export interface DirectToolHostProps {
  /** The host, as in the tool's `upstream` (`api.search.example.com`). */
  readonly host: string;
  /** Why the role must reach it past the gateway; `rapidclaw verify` lists it. */
  readonly reason: string;
}

/** A role: the permission boundary shared by the agents that hold it. */
export interface RoleProps {
  /**
   * Access per tool name; tools not listed are DENY.
   * @default {}
   */
  readonly tools?: { [toolName: string]: ToolAccess };
  /** @default - no limits */
  readonly limits?: RoleLimitsProps;
  /** @default - model hosts only */
  readonly network?: RoleNetworkProps;
  /**
   * Whether agents of this role get a writable root file system.
   * @default false
   */
  readonly allowFileSystem?: boolean;
  /**
   * Shadow mode for this role's tool calls: `audit` lets calls the gateway would refuse through
   * and raises `would_deny` events instead. A tool's own `enforcement` wins over it.
   * @default - the firewall's `enforcement`
   */
  readonly enforcement?: Enforcement;
}

/** An agent workload. */
export interface AgentProps {
  /** Name, unique in the fleet; becomes a container or Deployment name. */
  readonly name: string;
  /** Container image. */
  readonly image: string;
  /** Name of the role the agent holds. */
  readonly role: string;
  /**
   * Memory limit: a number with a unit, `512M`, `2G` (also `Mi`/`Gi`).
   * @default "1G"
   */
  readonly memory?: string;
  /**
   * CPU limit in cores, 0.01 to 64.
   * @default 1
   */
  readonly cpus?: number;
  /**
   * Docker only: a fixed address on the network of the agent's role, in the lower half of the
   * role's subnet after the proxy and the tool gateway (from .4 in a /24: .4 to .127). Identity does not hang on it:
   * the proxy recognises the role by the network the agent is on.
   * @default - an address the engine picks from the upper half of the role's subnet
   */
  readonly ipv4Address?: string;
  /**
   * Docker only: the user the container runs as, `uid`, `uid:gid` or a user name of the image.
   * Kubernetes agents always run as uid 10001. Agents of different roles should not share a uid:
   * the process limit counts per uid across the host.
   * @default - the role's own uid and gid, from 2000000 to 2999999, derived from the firewall's and the role's names (never root; write "0" or "root" to run as root on purpose)
   */
  readonly user?: string;
  /**
   * Docker only: the `nproc` ulimit (RLIMIT_NPROC) of the container, 16 to 65,536, against fork
   * bombs. The kernel counts it per user id across the host, so agents running as the same user
   * share it, and root ignores it; the Docker provider has no per-container pids limit.
   * @default 512
   */
  readonly processLimit?: number;
  /**
   * Kubernetes only: replicas of the agent's Deployment, 0 to 100.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Extra environment variables (the proxy variables are always set and cannot be overridden).
   * @default {}
   */
  readonly env?: { [name: string]: string };
  /**
   * The agent program the image runs: its own configuration for the agent's role is mounted
   * read-only where that program reads it, with the hook that asks the role's tool gateway
   * before every tool call (so the firewall needs a gateway: a tool with an `upstream`, or `gateway: {}`).
   * @default - none: nothing is mounted for the agent program
   */
  readonly runtime?: AgentRuntime;
}

/** Options of the egress proxy. */
export interface EgressProxyOptions {
  /**
   * Squid image, best by digest (`registry.example.com/rapidclaw/egress-proxy@sha256:…`): Squid
   * >= 5.7 built with OpenSSL (it reads TLS server names), `sh` and `openssl`, run as the user
   * `proxy`. The package's `images/egress-proxy/Dockerfile` (Debian 12's `squid-openssl`) builds
   * one. Required on Kubernetes, which cannot build images: build that Dockerfile, push it to
   * your registry and give its digest here.
   * @default - Docker: the stack builds images/egress-proxy on the Docker host; Kubernetes: none, an error says how to build one
   */
  readonly image?: string;
  /**
   * First proxy port. Docker uses this one port for every role; Kubernetes gives each role the
   * port `port + slot` (see `allocations`) and the tool gateway's listener `port - 1`.
   * @default 3128
   */
  readonly port?: number;
  /**
   * Also allow plain HTTP (port 80) to listed hosts. Off: only CONNECT to port 443.
   * @default false
   */
  readonly allowPlainHttp?: boolean;
  /**
   * Hosts agents reach directly instead of through the proxy (added to their NO_PROXY): exact
   * host names or IP addresses, such as Vault's. The network must route them: on Docker attach
   * the host to the networks of the roles that need it, on Kubernetes list its range in the role's `egressCidrs`.
   * @default [] - only localhost
   */
  readonly noProxy?: string[];
  /**
   * Kubernetes only: proxy replicas.
   * @default 2
   */
  readonly replicas?: number;
  /**
   * Extra destination ranges the proxy refuses (IPv4 or IPv6 CIDRs), on top of the special-purpose
   * blocks it always refuses (private, loopback, link-local, metadata, NAT64, 6to4 …). List your
   * VPC's or datacenter's own public ranges here: a host name an agent may reach that resolves
   * into them is then refused, and the Kubernetes proxy's NetworkPolicy leaves them out too.
   * @default []
   */
  readonly forbiddenCidrs?: string[];
  /**
   * Shadow mode of the proxy, never the default and not implied by the firewall's `enforcement`:
   * `audit` lets a role's CONNECT to port 443 of a host its allowlist does not list (or whose TLS
   * server name does not match) through, logged as `would_block` instead of refused; with
   * `allowPlainHttp`, plain HTTP to port 80 too. IP literals, other ports and forbidden
   * destinations stay refused, and the tool gateway's listener is always enforced. Synthesis warns.
   * @default "enforce"
   */
  readonly enforcement?: Enforcement;
  /**
   * Open connections one client address may hold to the proxy (Squid `client_ip_max_connections`),
   * 16 to 100,000. Keeps one agent from using up the proxy's file descriptors and starving every
   * other role; the default is far above what a busy agent opens.
   * @default 512
   */
  readonly maxConnectionsPerClient?: number;
  /**
   * Seconds a client has, after connecting, to send its first request line and headers (Squid
   * `request_start_timeout`), 5 to 600. Idle half-open connections are closed after it.
   * @default 60
   */
  readonly requestStartTimeoutSec?: number;
  /**
   * Docker only: memory limit of the proxy container, a number with a unit (`512M`, `1G`).
   * @default "512M"
   */
  readonly memory?: string;
  /**
   * Docker only: CPU limit of the proxy container in cores, 0.01 to 64.
   * @default 1
   */
  readonly cpus?: number;
  /**
   * Docker only: the `nproc` ulimit (RLIMIT_NPROC) of the proxy container, 16 to 65,536; it
   * counts every process of the `proxy` user on the host.
   * @default 256
   */
  readonly processLimit?: number;
}

/**
 * Docker network options. Each role gets its own `internal` network (`rapidclaw-agents-<role>`)
 * holding only the role's agents, the proxy and the tool gateway; each listens on its address in
 * that network alone, so the network an agent is on is its role. In a role's subnet the first
 * address is the network's gateway (reserved, but not given to the bridge: the host is not on
 * agent networks), the second the proxy, the third the tool gateway (reserved even when none is
 * deployed); pinned agent addresses lie in the lower half, the engine hands out the upper half.
 */
export interface DockerNetworkOptions {
  /**
   * Pool the role subnets are carved from, IPv4 CIDR from /8 to /27 and shorter than
   * `roleSubnetPrefix`. A new role gets the subnet its name hashes to, or the next free one
   * after it; with the allocation record (`allocations`, `RapidClawStack.allocationFile`) no
   * role ever moves when others are added, removed or renamed.
   * @default "172.30.0.0/16"
   */
  readonly subnet?: string;
  /**
   * Prefix length of each role's subnet carved from `subnet`, 16 to 28.
   * @default 24
   */
  readonly roleSubnetPrefix?: number;
  /**
   * Fixed subnets by role name (IPv4 CIDR, /16 to /28), instead of the hashed one: to place a
   * role yourself or to keep it where it was.
   * @default {}
   */
  readonly roleSubnets?: { [roleName: string]: string };
  /**
   * Subnet of the proxy's egress network; under a firewall `name` other than the default, a /24
   * of 172.31.0.0/16 picked by a hash of the name.
   * @default "172.31.0.0/24"
   */
  readonly egressSubnet?: string;
  /**
   * Subnet of the tool gateway's own networks, IPv4 /16 to /26, split in four: the first quarter
   * joins the gateway to the proxy's gateway listener, the second to its Redis, the third its
   * Vault Agent to Vault. Under a firewall `name` other than the default, the /24 of
   * 172.31.0.0/16 opposite the hashed egress subnet (its third octet plus 128, modulo 256).
   * @default "172.31.128.0/24"
   */
  readonly gatewaySubnet?: string;
  /**
   * DNS resolvers for the proxy container.
   * @default - the engine's resolvers
   */
  readonly dnsServers?: string[];
}

/** Where ingress to agent pods may come from. */
export interface AgentIngressProps {
  /** Labels of the namespaces allowed to connect to agent pods. */
  readonly namespaceLabels: { [key: string]: string };
  /** TCP port on the agent pods. */
  readonly port: number;
}

/** Kubernetes options. */
export interface KubernetesOptions {
  /**
   * Adopt an existing namespace named `namespace` instead of creating it: the file form of
   * `AgentNamespace.fromNamespaceName` (in TypeScript, pass the import as
   * `IsolatedAgentNetworkProps.namespace`).
   * @default false
   */
  readonly existingNamespace?: boolean;
  /**
   * Address of a NodeLocal DNSCache (for example `169.254.20.10`) agents may also query.
   * @default - cluster DNS only
   */
  readonly nodeLocalDnsIp?: string;
  /**
   * Ingress to agent pods; omit for none.
   * @default - no ingress
   */
  readonly ingress?: AgentIngressProps;
}

/** Vault options. */
export interface VaultOptions {
  /**
   * Path of the KV v2 mount; under a firewall `name` other than the default, `<name>-agent-keys`.
   * @default "agent-keys"
   */
  readonly mountPath?: string;
  /**
   * How key values reach Vault.
   * @default KeyMode.EPHEMERAL
   */
  readonly keyMode?: KeyMode;
  /**
   * Path of the auth backend (Kubernetes auth on Kubernetes, AppRole on Docker); under a firewall
   * `name` other than the default, `<name>-kubernetes` or `<name>-approle`.
   * @default "kubernetes" or "approle"
   */
  readonly authPath?: string;
  /**
   * Reuse an existing auth backend at `authPath` instead of creating it: the file form of
   * `VaultAuthMount.fromAuthPath` (in TypeScript, pass the import as
   * `ScopedAgentKeysProps.authMount`).
   * @default false
   */
  readonly existingAuthMount?: boolean;
  /**
   * Kubernetes only: API server address Vault uses to review tokens, when the backend is created.
   * @default "https://kubernetes.default.svc"
   */
  readonly kubernetesHost?: string;
  /**
   * Lifetime of tokens issued to agents, in seconds, 60 to 86,400.
   * @default 900
   */
  readonly tokenTtlSeconds?: number;
  /**
   * Vault's URL as the tool gateway's Vault Agent reaches it (`https://vault.example.com:8200`;
   * on Docker a container attached to the gateway's Vault network, such as `http://vault:8200`).
   * Required when some tool's key is delivered to the gateway.
   * @default - none
   */
  readonly address?: string;
}

/** Severity of an alert, ordered INFO < WARNING < CRITICAL. */
export enum AlertSeverity {
  INFO = "info",
  WARNING = "warning",
  CRITICAL = "critical",
}

/** An alert threshold: `count` events of a kind within `windowSec` raise an alert. */
export interface AlertThresholdProps {
  /** Events that raise the alert. */
  readonly count: number;
  /** Window the events are counted in, in seconds. */
  readonly windowSec: number;
  readonly severity: AlertSeverity;
}

/** Payload shape an alert webhook receives. */
export enum WebhookFormat {
  /** Rapid Claw's own JSON: `{ status, rule, severity, role, tool, count, threshold, windowSec, … }`. */
  JSON = "json",
  /** Slack incoming webhook: `{ text }`. */
  SLACK = "slack",
  /** PagerDuty Events API v2: trigger on firing, resolve on resolution, one dedup key per breach. */
  PAGERDUTY = "pagerduty",
}

/**
 * Where alerts of a severity go. URLs and keys are secrets: they are named here (an environment
 * variable, or a file such as one Vault Agent renders) and read by the evaluator at start, never
 * written into the firewall description or the synthesized output. Give exactly one of `urlEnv`
 * and `urlFile` (PagerDuty: at most one), and for PagerDuty exactly one of `routingKeyEnv` and
 * `routingKeyFile`.
 */
export interface AlertWebhookProps {
  /** Lowest severity sent to this webhook. */
  readonly severity: AlertSeverity;
  /** Payload shape the webhook receives. */
  readonly format: WebhookFormat;
  /** Environment variable that holds the webhook URL. @default - urlFile, or PagerDuty's Events v2 URL */
  readonly urlEnv?: string;
  /** Absolute path of a file that holds the webhook URL. @default - urlEnv */
  readonly urlFile?: string;
  /** PagerDuty only: environment variable that holds the integration (routing) key. @default - routingKeyFile */
  readonly routingKeyEnv?: string;
  /** PagerDuty only: absolute path of a file that holds the integration (routing) key. @default - routingKeyEnv */
  readonly routingKeyFile?: string;
  /**
   * Kubernetes: name of an existing Secret in the firewall's namespace whose key `url` holds the
   * webhook URL (PagerDuty: `routingKey` the integration key). The deployed evaluators mount it
   * and read it as files; give it instead of `urlEnv`/`urlFile` and `routingKeyEnv`/`routingKeyFile`.
   * @default - none
   */
  readonly kubernetesSecret?: string;
  /**
   * Docker: name of a KV v2 secret under `webhooks/` in the firewall's key mount
   * (`<mount>/data/webhooks/<vaultSecret>`) whose field `url` holds the webhook URL (PagerDuty:
   * `routingKey` the integration key). Each deployed evaluator's Vault Agent renders them as files
   * it reads; give it instead of `urlEnv`/`urlFile` and `routingKeyEnv`/`routingKeyFile`.
   * Lower-case segments of letters, digits, `_` and `-`, joined by `/`.
   * @default - none
   */
  readonly vaultSecret?: string;
}

/** Monitoring thresholds per firewall event kind. */
export interface MonitoringOptions {
  /** @default { count: 10, windowSec: 300, severity: "warning" } */
  readonly rateLimited?: AlertThresholdProps;
  /** @default { count: 3, windowSec: 60, severity: "critical" } */
  readonly permissionDenied?: AlertThresholdProps;
  /** @default { count: 5, windowSec: 300, severity: "critical" } */
  readonly networkBlocked?: AlertThresholdProps;
  /**
   * Refusals of a role's calls to one tool because its token budget is spent (see `tokenLimit`);
   * the rule exists only when some tool has a `tokenLimit`.
   * @default { count: 1, windowSec: 300, severity: "warning" }
   */
  readonly tokenBudgetExceeded?: AlertThresholdProps;
  /** Webhooks alerts are delivered to. @default [] */
  readonly webhooks?: AlertWebhookProps[];
}

/** The whole firewall: one typed description of the fleet. */
export interface FirewallSpecProps {
  /** Where the agents run: Docker or Kubernetes. */
  readonly platform: AgentPlatform;
  /**
   * Name of the firewall: every name it gives things outside Terraform derives from it, so two
   * firewalls with different names coexist on one Docker engine, in one Kubernetes namespace and
   * in one Vault. Its own objects are `<name>-…` (`<name>-egress-proxy`, `<name>-egress`,
   * `<name>-agents-<role>`, Vault policies and roles `<name>-<role>`); under any name but the
   * default, names made from your roles and agents, the Vault mount and the auth path get the
   * `<name>-` prefix too (`<name>-openclaw-agent`, `<name>-agent-keys`, `<name>-approle`), and
   * Docker role subnets are hashed with the name. A DNS label: lower-case letters, digits and
   * inner `-`, starting with a letter, at most 24 characters.
   * @default "rapidclaw"
   */
  readonly name?: string;
  /**
   * Kubernetes namespace of the agents and the proxy.
   * @default "ai-agents"
   */
  readonly namespace?: string;
  /** Host patterns every agent may reach through the proxy (its model APIs). */
  readonly modelHosts: string[];
  /**
   * Wildcards of `modelHosts` that span many tenants' hosts (`*.amazonaws.com` …), each repeated
   * here to accept that; without it such a pattern is refused. Prefer exact hosts such as
   * `bedrock-runtime.us-east-1.amazonaws.com`.
   * @default []
   */
  readonly multiTenantWildcards?: string[];
  /** Tools by name. */
  readonly tools: { [toolName: string]: ToolProps };
  /** Roles by name. */
  readonly roles: { [roleName: string]: RoleProps };
  /** @default [] */
  readonly agents?: AgentProps[];
  /** @default - see EgressProxyOptions */
  readonly proxy?: EgressProxyOptions;
  /** @default - see DockerNetworkOptions */
  readonly docker?: DockerNetworkOptions;
  /** @default - see KubernetesOptions */
  readonly kubernetes?: KubernetesOptions;
  /** @default - see VaultOptions */
  readonly vault?: VaultOptions;
  /** @default - see MonitoringOptions */
  readonly monitoring?: MonitoringOptions;
  /** @default - see GatewayOptions */
  readonly gateway?: GatewayOptions;
  /**
   * Shadow mode of the tool gateway for every role and tool: `audit` lets calls it would refuse
   * (permission, rate limit, token budget) through and raises `would_deny` events instead. A
   * role's and a tool's own `enforcement` win over it. The egress proxy is not affected.
   * @default "enforce"
   */
  readonly enforcement?: Enforcement;
  /**
   * What earlier syntheses handed out to each role, by role name (`RapidClawStack` keeps it in
   * its `allocationFile`): a recorded role keeps its ports (Kubernetes) or subnet (Docker)
   * whatever roles are added or removed. Entries of roles no longer in `roles` stay reserved,
   * so nobody else gets their ports or subnet; delete an entry to free it.
   * @default {} - roles are allocated in name order, each new one the first free slot
   */
  readonly allocations?: { [roleName: string]: RoleAllocation };
}

/**
 * What a firewall handed out to one role, as recorded in `FirewallSpecProps.allocations`: one
 * field per platform, the other left out.
 */
export interface RoleAllocation {
  /**
   * Kubernetes: the role's port offset; its proxy port is `proxy.port + slot`, its gateway port
   * `gateway.port + slot`. A whole number, at least 0.
   * @default - none (a Docker allocation)
   */
  readonly slot?: number;
  /**
   * Docker: the role's subnet, of `docker.roleSubnetPrefix`, inside `docker.subnet`.
   * @default - none (a Kubernetes allocation)
   */
  readonly subnet?: string;
}
