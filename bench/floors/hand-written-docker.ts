// The seed scenario on Docker written as a plain cdktf program, without the library: the same
// resources through the same prebuilt provider classes (deep imports), the documents as literals
// (seed-documents.ts), and plain Construct scopes that give every resource the library's construct
// path, so logical ids and the synthesized JSON are byte-identical to the library's.
import { createHash } from "node:crypto";
import { Container } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Network } from "@cdktf/provider-docker/lib/network";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { Rotating } from "@cdktf/provider-time/lib/rotating";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { ApproleAuthBackendRole } from "@cdktf/provider-vault/lib/approle-auth-backend-role";
import { AuthBackend } from "@cdktf/provider-vault/lib/auth-backend";
import { KvSecretBackendV2 } from "@cdktf/provider-vault/lib/kv-secret-backend-v2";
import { KvSecretV2 } from "@cdktf/provider-vault/lib/kv-secret-v2";
import { Mount } from "@cdktf/provider-vault/lib/mount";
import { Policy } from "@cdktf/provider-vault/lib/policy";
import { VaultProvider } from "@cdktf/provider-vault/lib/provider";
import { Fn, ref, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { ROLE_PROFILES, SQUID_CONF_DOCKER, VAULT_POLICIES } from "./seed-documents";

/** Each role's own internal network, as the library draws them from the `docker.subnet` pool. */
const ROLES = [
  { id: "customer-support", name: "customer_support", subnet: "172.30.76.0/24", octet: 76, bridge: "rclaw-ac1e4c00" },
  { id: "research-agent", name: "research_agent", subnet: "172.30.16.0/24", octet: 16, bridge: "rclaw-ac1e1000" },
].map((role) => ({ ...role, proxyAddress: `172.30.${role.octet}.2`, proxyUrl: `http://172.30.${role.octet}.2:3128` }));
const NO_PROXY = "localhost,127.0.0.1,::1";
const LOG_ROTATION = { "max-size": "10m", "max-file": "3" };

/** Text that Terraform must take literally: `${` and `%{` escaped. */
const literal = (text: string) => text.replace(/\$\{/g, "$${").replace(/%\{/g, "%%{");

const labels = (extra: Record<string, string>) =>
  Object.entries({ "app.kubernetes.io/managed-by": "rapidclaw", ...extra })
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([label, value]) => ({ label, value }));

/** The tools that hold a key, with the config stored beside it. */
const KEYED_TOOLS = [
  { id: "database", config: { tool: "database", permissions: ["db:read"], max_calls: 50, window_sec: 60, max_rpm: 50 } },
  { id: "file-upload", config: { tool: "file_upload", permissions: ["files:write"], max_calls: 10, window_sec: 60, max_rpm: 10 } },
  { id: "send-email", config: { tool: "send_email", permissions: ["email:send"], max_calls: 5, window_sec: 300, max_rpm: 1 } },
  { id: "web-search", config: { tool: "web_search", permissions: ["search:read"], max_calls: 20, window_sec: 60, max_rpm: 20 } },
];

export function buildHandWrittenDocker(scope: Construct, id: string): TerraformStack {
  const stack = new TerraformStack(scope, id);
  new DockerProvider(stack, "docker", {});
  new VaultProvider(stack, "vault", {});
  new RandomProvider(stack, "random", {});
  new TimeProvider(stack, "time", {});

  const network = new Construct(stack, "network");
  const roleNetworks = new Construct(network, "roles");
  const agentNetworks = new Map(
    ROLES.map((role) => [
      role.id,
      new Network(roleNetworks, role.id, {
        name: `rapidclaw-agents-${role.id}`,
        internal: true,
        ipamConfig: [{ subnet: role.subnet, gateway: `172.30.${role.octet}.1`, ipRange: `172.30.${role.octet}.128/25` }],
        options: { "com.docker.network.bridge.inhibit_ipv4": "true", "com.docker.network.bridge.name": role.bridge },
        labels: labels({ "rapidclaw.dev/component": "agent-network", "rapidclaw.dev/role": role.id }),
      }),
    ]),
  );
  const egressNetwork = new Network(network, "egress", {
    name: "rapidclaw-egress",
    ipamConfig: [{ subnet: "172.31.0.0/24" }],
    labels: labels({ "rapidclaw.dev/component": "egress-network" }),
  });

  const proxy = new Construct(new Construct(stack, "egress-proxy"), "docker");
  const squidImage = new Image(proxy, "image", { name: "ubuntu/squid:6.6-24.04_edge", keepLocally: true });
  new Container(proxy, "container", {
    name: "rapidclaw-egress-proxy",
    image: squidImage.imageId,
    user: "proxy",
    entrypoint: ["squid", "-N", "-f", "/etc/squid/squid.conf"],
    upload: [{ file: "/etc/squid/squid.conf", content: literal(SQUID_CONF_DOCKER), permissions: "0644" }],
    mounts: [{ target: "/etc/squid", type: "volume" }],
    networksAdvanced: [
      ...ROLES.map((role) => ({ name: agentNetworks.get(role.id)!.name, ipv4Address: role.proxyAddress })),
      { name: egressNetwork.name },
    ],
    memory: 512,
    cpus: "1",
    ulimit: [{ name: "nproc", soft: 256, hard: 256 }],
    logDriver: "json-file",
    logOpts: LOG_ROTATION,
    readOnly: true,
    removeVolumes: true,
    tmpfs: { "/var/spool/squid": "rw,noexec,nosuid,size=16m", "/var/run/squid": "rw,noexec,nosuid,size=1m" },
    capabilities: { drop: ["ALL"] },
    securityOpts: ["no-new-privileges:true"],
    restart: "unless-stopped",
    mustRun: true,
    labels: labels({ "rapidclaw.dev/component": "egress-proxy" }),
  });

  const keys = new Construct(stack, "keys");
  const mount = new Mount(keys, "mount", {
    path: "agent-keys",
    type: "kv",
    options: { version: "2" },
    description: "Rapid Claw scoped agent keys, one secret per tool",
  });
  const settings = new KvSecretBackendV2(keys, "settings", { mount: mount.path, maxVersions: 2, casRequired: false });
  const auth = new AuthBackend(keys, "auth", { type: "approle", path: "approle", description: "Rapid Claw agent logins" });
  const tools = new Construct(keys, "tools");
  for (const tool of KEYED_TOOLS) {
    const toolScope = new Construct(tools, tool.id);
    const rotation = new Rotating(toolScope, "rotation", {
      rotationHours: 24,
      triggers: { config_sha256: createHash("sha256").update(JSON.stringify(tool.config)).digest("hex") },
    });
    const password = `rapidclaw_key_${tool.id.replace(/-/g, "_")}_${keys.node.addr.slice(0, 8)}`;
    stack.addOverride(`ephemeral.random_password.${password}`, { length: 48, special: false });
    new KvSecretV2(toolScope, "secret", {
      mount: mount.path,
      name: `tools/${tool.id}`,
      dataJsonWo: Fn.jsonencode({ api_key: ref(`ephemeral.random_password.${password}.result`, stack), ...tool.config }),
      dataJsonWoVersion: rotation.unix,
      dependsOn: [settings],
    });
  }

  // After the ephemeral blocks: the library adds it at synthesis, and cdktf lists overrides in the order made.
  stack.addOverride("terraform.required_version", ">= 1.11.0");

  for (const role of ROLES) {
    const profile = new Construct(stack, `role-${role.id}`);
    const policy = new Policy(profile, "policy", { name: `rapidclaw-${role.id}`, policy: VAULT_POLICIES[`rapidclaw-${role.id}`] });
    new ApproleAuthBackendRole(profile, "login", {
      backend: auth.path,
      roleName: `rapidclaw-${role.id}`,
      secretIdBoundCidrs: [role.subnet],
      tokenBoundCidrs: [role.subnet],
      secretIdTtl: 3600,
      secretIdNumUses: 1,
      tokenPolicies: [policy.name],
      tokenNoDefaultPolicy: true,
      tokenTtl: 900,
      tokenMaxTtl: 900,
    });
  }

  const agents = new Construct(new Construct(stack, "agents"), "docker");
  const images = new Construct(agents, "images");
  const containers = new Construct(agents, "containers");
  const hermesImage = new Image(images, "0", { name: "nousresearch/hermes-agent:latest", keepLocally: true });
  const openclawImage = new Image(images, "1", { name: "openclaw/agent:latest", keepLocally: true });
  const agentList = [
    { name: "hermes-agent", image: hermesImage, role: ROLES[0], memory: 1024, cpus: "0.5" },
    { name: "openclaw-agent", image: openclawImage, role: ROLES[1], memory: 2048, cpus: "1" },
  ];
  for (const agent of agentList) {
    const proxyUrl = agent.role.proxyUrl;
    new Container(containers, agent.name, {
      name: agent.name,
      image: agent.image.imageId,
      user: "10001:10001",
      networksAdvanced: [{ name: agentNetworks.get(agent.role.id)!.name }],
      env: [
        `HTTPS_PROXY=${proxyUrl}`,
        `HTTP_PROXY=${proxyUrl}`,
        `NO_PROXY=${NO_PROXY}`,
        "RAPIDCLAW_PROFILE=/etc/rapidclaw/profile.json",
        `RAPIDCLAW_ROLE=${agent.role.name}`,
        `http_proxy=${proxyUrl}`,
        `https_proxy=${proxyUrl}`,
        `no_proxy=${NO_PROXY}`,
      ],
      memory: agent.memory,
      cpus: agent.cpus,
      ulimit: [{ name: "nproc", soft: 512, hard: 512 }],
      logDriver: "json-file",
      logOpts: LOG_ROTATION,
      readOnly: true,
      removeVolumes: true,
      tmpfs: { "/tmp": "rw,noexec,nosuid,size=64m" },
      mounts: [{ target: "/etc/rapidclaw", type: "volume" }],
      upload: [
        { file: "/etc/rapidclaw/profile.json", content: literal(ROLE_PROFILES[agent.role.name].json), permissions: "0444" },
        { file: "/etc/rapidclaw/profile.yaml", content: literal(ROLE_PROFILES[agent.role.name].yaml), permissions: "0444" },
      ],
      capabilities: { drop: ["ALL"] },
      securityOpts: ["no-new-privileges:true"],
      restart: "unless-stopped",
      mustRun: true,
      labels: labels({ "rapidclaw.dev/agent": agent.name, "rapidclaw.dev/component": "agent", "rapidclaw.dev/role": agent.role.id }),
    });
  }

  new TerraformOutput(stack, "proxy_urls", {
    description: "Proxy URL (HTTPS_PROXY) of each role",
    value: Object.fromEntries(ROLES.map((role) => [role.name, role.proxyUrl])),
  });
  return stack;
}
