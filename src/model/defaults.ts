import { AlertSeverity, Enforcement, KeyMode } from "./types";

/**
 * Every default of the firewall description, in one table. Validation, the plan, the renderers
 * and the gateway read their defaults from here; the `@default` tags in `types.ts` quote it (a
 * unit test compares them).
 */
export const DEFAULTS = {
  /** Prefix of every external name (networks, containers, Kubernetes objects, Vault paths, policies, roles). */
  name: "rapidclaw",
  namespace: "ai-agents",
  existingNamespace: false,
  proxyPort: 3128,
  proxyReplicas: 2,
  allowPlainHttp: false,
  maxConnectionsPerClient: 512,
  requestStartTimeoutSec: 60,
  memory: "1G",
  cpus: 1,
  replicas: 1,
  /** Kubernetes agents' user (Docker agents run as their role's own uid, `roleUids`). */
  agentUser: "10001:10001",
  agentProcessLimit: 512,
  allowEgress: false,
  /** Acknowledgements of an egress CIDR: off unless given. */
  allowPublic: false,
  allowBroad: false,
  allowFileSystem: false,
  /** The gateway refuses what its rules refuse unless shadow mode is asked for. */
  enforcement: Enforcement.ENFORCE,
  proxyMemory: "512M",
  proxyCpus: 1,
  proxyProcessLimit: 256,
  rotationHours: 24,
  keyLength: 48,
  mountPath: "agent-keys",
  keyMode: KeyMode.EPHEMERAL,
  /** Auth backend path per platform, before the firewall's name is applied. */
  authPath: { docker: "approle", kubernetes: "kubernetes" },
  existingAuthMount: false,
  kubernetesHost: "https://kubernetes.default.svc",
  tokenTtlSeconds: 900,
  /** Docker: the pool role subnets are carved from, their prefix, and the proxy's egress subnet. */
  agentSubnet: "172.30.0.0/16",
  roleSubnetPrefix: 24,
  egressSubnet: "172.31.0.0/24",
  /** Docker: the tool gateway's networks (to the proxy, to Redis, to Vault), quarters of this subnet. */
  gatewaySubnet: "172.31.128.0/24",
  monitoring: {
    rateLimited: { count: 10, windowSec: 300, severity: AlertSeverity.WARNING },
    permissionDenied: { count: 3, windowSec: 60, severity: AlertSeverity.CRITICAL },
    networkBlocked: { count: 5, windowSec: 300, severity: AlertSeverity.CRITICAL },
    tokenBudgetExceeded: { count: 1, windowSec: 300, severity: AlertSeverity.WARNING },
  },
  /** /metrics, /healthz and /readyz of `rapidclaw proxy-events` (the CLI's default too). */
  proxyEventsAdminPort: 9465,
  /** Docker: the uid of proxy-events; its group is the proxy's (13 in Debian-based images), whose 0640 log it reads. */
  proxyEventsUser: "10004:13",
  gateway: {
    port: 8080,
    limiterTimeoutMs: 250,
    keyHeader: { name: "authorization", format: "Bearer {key}" },
    /** The header value of a `keyHeader` given without `format`: the key alone. */
    keyFormat: "{key}",
    failOpen: false,
    /** Role task limits: a task no check or call renewed for this long gives its slot back (`maxConcurrentTasks`). */
    taskLeaseSec: 600,
    /** Role task limits: the role-wide window that backs the per-task limits (per-task limit × `maxConcurrentTasks` in it). */
    taskWindowSec: 3_600,
    /** A stock Node image, pinned: the gateway bundle needs Node >= 20.19 and nothing else. */
    image: "node:22.12.0-bookworm-slim",
    /** Kubernetes: at least two, so that a PodDisruptionBudget can keep one serving. */
    replicas: 2,
    /** The bundled Redis, pinned: the scripts declare their flags (`#!lua`), which needs Redis >= 7.0. */
    redisImage: "redis:7.4.1-alpine",
    redisPort: 6379,
    /** /metrics, /healthz and /readyz. */
    adminPort: 9464,
    /** The Vault Agent that renders the gateway's keys, pinned. */
    vaultAgentImage: "hashicorp/vault:1.18.3",
    /** Docker: the uid and gid of the gateway and its Vault Agent (one, so the 0400 key files are readable), and of Redis. */
    user: "10002:10002",
    redisUser: "10003:10003",
    /** Docker: limits of the gateway's containers (memory in MiB, cores, processes). */
    limits: {
      gateway: { memoryMiB: 512, cpus: 1, processLimit: 256 },
      redis: { memoryMiB: 256, cpus: 0.5, processLimit: 128 },
      vaultAgent: { memoryMiB: 128, cpus: 0.25, processLimit: 128 },
      proxyEvents: { memoryMiB: 192, cpus: 0.25, processLimit: 128 },
    },
  },
} as const;
