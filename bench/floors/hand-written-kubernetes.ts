// The seed scenario on Kubernetes written as a plain cdktf program, without the library: the same
// resources through the same prebuilt provider classes (deep imports), the documents as literals
// (seed-documents.ts), and plain Construct scopes that give every resource the library's construct
// path, so logical ids and the synthesized JSON are byte-identical to the library's.
import { createHash } from "node:crypto";
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { NetworkPolicyV1, type NetworkPolicyV1Spec } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { Rotating } from "@cdktf/provider-time/lib/rotating";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { AuthBackend } from "@cdktf/provider-vault/lib/auth-backend";
import { KubernetesAuthBackendConfig } from "@cdktf/provider-vault/lib/kubernetes-auth-backend-config";
import { KubernetesAuthBackendRole } from "@cdktf/provider-vault/lib/kubernetes-auth-backend-role";
import { KvSecretBackendV2 } from "@cdktf/provider-vault/lib/kv-secret-backend-v2";
import { KvSecretV2 } from "@cdktf/provider-vault/lib/kv-secret-v2";
import { Mount } from "@cdktf/provider-vault/lib/mount";
import { Policy } from "@cdktf/provider-vault/lib/policy";
import { VaultProvider } from "@cdktf/provider-vault/lib/provider";
import { Fn, ref, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { ROLE_PROFILES, SQUID_CONF_KUBERNETES, VAULT_POLICIES } from "./seed-documents";

const MANAGED_BY = { "app.kubernetes.io/managed-by": "rapidclaw" };
const PROXY_LABELS = { ...MANAGED_BY, "rapidclaw.dev/component": "egress-proxy" };
const POLICY_LABELS = { ...MANAGED_BY, "rapidclaw.dev/component": "network-policy" };
const NO_PROXY = "localhost,127.0.0.1,::1";
/** Text that Terraform must take literally: `${` and `%{` escaped. */
const literal = (text: string) => text.replace(/\$\{/g, "$${").replace(/%\{/g, "%%{");
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

const DNS_EGRESS = {
  to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
  ports: [{ protocol: "UDP", port: "53" }, { protocol: "TCP", port: "53" }],
};

const podSecurityContext = (uid: string) => ({ runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: "RuntimeDefault" } });
const CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  privileged: false,
  runAsNonRoot: true,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/** The tools that hold a key, with the config stored beside it. */
const KEYED_TOOLS = [
  { id: "database", config: { tool: "database", permissions: ["db:read"], max_calls: 50, window_sec: 60, max_rpm: 50 } },
  { id: "file-upload", config: { tool: "file_upload", permissions: ["files:write"], max_calls: 10, window_sec: 60, max_rpm: 10 } },
  { id: "send-email", config: { tool: "send_email", permissions: ["email:send"], max_calls: 5, window_sec: 300, max_rpm: 1 } },
  { id: "web-search", config: { tool: "web_search", permissions: ["search:read"], max_calls: 20, window_sec: 60, max_rpm: 20 } },
];

const ROLES = [
  { name: "customer_support", id: "customer-support", port: 3128 },
  { name: "research_agent", id: "research-agent", port: 3129 },
];

export function buildHandWrittenKubernetes(scope: Construct, id: string): TerraformStack {
  const stack = new TerraformStack(scope, id);
  new KubernetesProvider(stack, "kubernetes", {});
  new VaultProvider(stack, "vault", {});
  new RandomProvider(stack, "random", {});
  new TimeProvider(stack, "time", {});

  const network = new Construct(new Construct(stack, "network"), "kubernetes");
  const ns = new NamespaceV1(network, "namespace", {
    metadata: {
      name: "ai-agents",
      labels: { ...MANAGED_BY, "pod-security.kubernetes.io/enforce": "restricted", "rapidclaw.dev/firewall": "true" },
    },
  });
  const namespace = ns.metadata.name;
  const policy = (scope: Construct, id: string, name: string, spec: NetworkPolicyV1Spec) =>
    new NetworkPolicyV1(scope, id, { metadata: { name, namespace, labels: POLICY_LABELS }, spec });
  const allAgents = { matchLabels: { "rapidclaw.dev/component": "agent" } };
  const roleAgents = (role: string) => ({ matchLabels: { "rapidclaw.dev/component": "agent", "rapidclaw.dev/role": role } });
  policy(network, "default-deny", "rapidclaw-agents-default-deny", { podSelector: allAgents, policyTypes: ["Ingress", "Egress"] });
  policy(network, "dns", "rapidclaw-agents-dns", { podSelector: allAgents, policyTypes: ["Egress"], egress: [DNS_EGRESS] });
  for (const role of ROLES) {
    policy(network, `role-${role.id}-egress`, `rapidclaw-role-${role.id}-egress`, {
      podSelector: roleAgents(role.id),
      policyTypes: ["Egress"],
      egress: [{ to: [{ podSelector: { matchLabels: { "rapidclaw.dev/component": "egress-proxy" } } }], ports: [{ protocol: "TCP", port: String(role.port) }] }],
    });
  }

  const proxy = new Construct(new Construct(stack, "egress-proxy"), "kubernetes");
  const serviceHost = `rapidclaw-egress-proxy.${namespace}.svc`;
  const squidConf = new ConfigMapV1(proxy, "squid-conf", {
    metadata: { name: "rapidclaw-egress-proxy-squid-conf", namespace, labels: PROXY_LABELS },
    data: { "squid.conf": literal(SQUID_CONF_KUBERNETES) },
  });
  new DeploymentV1(proxy, "deployment", {
    metadata: { name: "rapidclaw-egress-proxy", namespace, labels: PROXY_LABELS },
    spec: {
      replicas: "2",
      selector: { matchLabels: PROXY_LABELS },
      template: {
        metadata: { labels: PROXY_LABELS, annotations: { "rapidclaw.dev/squid-conf-sha256": sha256(SQUID_CONF_KUBERNETES) } },
        spec: {
          automountServiceAccountToken: false,
          securityContext: podSecurityContext("13"),
          container: [
            {
              name: "squid",
              image: "ubuntu/squid:6.6-24.04_edge",
              command: ["squid", "-N", "-f", "/etc/squid/squid.conf"],
              port: ROLES.map((role, index) => ({ name: `role-${index}`, containerPort: role.port, protocol: "TCP" })),
              readinessProbe: { tcpSocket: [{ port: "3128" }], initialDelaySeconds: 2, periodSeconds: 10 },
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1000m", memory: "512Mi" } },
              securityContext: CONTAINER_SECURITY_CONTEXT,
              volumeMount: [
                { name: "squid-conf", mountPath: "/etc/squid/squid.conf", subPath: "squid.conf", readOnly: true },
                { name: "spool", mountPath: "/var/spool/squid" },
                { name: "run", mountPath: "/var/run/squid" },
                { name: "log", mountPath: "/var/log/squid" },
              ],
            },
          ],
          volume: [
            { name: "squid-conf", configMap: { name: squidConf.metadata.name, defaultMode: "0444" } },
            { name: "spool", emptyDir: { sizeLimit: "16Mi" } },
            { name: "run", emptyDir: { sizeLimit: "1Mi" } },
            { name: "log", emptyDir: { sizeLimit: "16Mi" } },
          ],
        },
      },
    },
  });
  new ServiceV1(proxy, "service", {
    metadata: { name: "rapidclaw-egress-proxy", namespace, labels: PROXY_LABELS },
    spec: {
      type: "ClusterIP",
      selector: PROXY_LABELS,
      port: ROLES.map((role, index) => ({ name: `role-${index}`, port: role.port, targetPort: `role-${index}`, protocol: "TCP" })),
    },
  });
  new PodDisruptionBudgetV1(proxy, "pdb", {
    metadata: { name: "rapidclaw-egress-proxy", namespace, labels: PROXY_LABELS },
    spec: { maxUnavailable: "1", selector: { matchLabels: PROXY_LABELS } },
  });
  policy(proxy, "network-policy", "rapidclaw-egress-proxy", {
    podSelector: { matchLabels: { "rapidclaw.dev/component": "egress-proxy" } },
    policyTypes: ["Ingress", "Egress"],
    ingress: ROLES.map((role) => ({ from: [{ podSelector: roleAgents(role.id) }], ports: [{ protocol: "TCP", port: String(role.port) }] })),
    egress: [
      DNS_EGRESS,
      {
        to: [
          {
            ipBlock: {
              cidr: "0.0.0.0/0",
              except: ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "168.63.129.16/32", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4"],
            },
          },
          { ipBlock: { cidr: "::/0", except: ["::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "fc00::/7", "fe80::/10"] } },
        ],
        ports: [{ protocol: "TCP", port: "443" }],
      },
    ],
  });

  const keys = new Construct(stack, "keys");
  const mount = new Mount(keys, "mount", {
    path: "agent-keys",
    type: "kv",
    options: { version: "2" },
    description: "Rapid Claw scoped agent keys, one secret per tool",
  });
  const settings = new KvSecretBackendV2(keys, "settings", { mount: mount.path, maxVersions: 2, casRequired: false });
  const auth = new AuthBackend(keys, "auth", { type: "kubernetes", path: "kubernetes", description: "Rapid Claw agent logins" });
  new KubernetesAuthBackendConfig(keys, "auth-config", { backend: auth.path, kubernetesHost: "https://kubernetes.default.svc" });
  const tools = new Construct(keys, "tools");
  for (const tool of KEYED_TOOLS) {
    const toolScope = new Construct(tools, tool.id);
    const rotation = new Rotating(toolScope, "rotation", { rotationHours: 24, triggers: { config_sha256: sha256(JSON.stringify(tool.config)) } });
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
    const vaultPolicy = new Policy(profile, "policy", { name: `rapidclaw-${role.id}`, policy: VAULT_POLICIES[`rapidclaw-${role.id}`] });
    new KubernetesAuthBackendRole(profile, "login", {
      backend: auth.path,
      roleName: `rapidclaw-${role.id}`,
      boundServiceAccountNames: [`${role.id}-agent`],
      boundServiceAccountNamespaces: ["ai-agents"],
      audience: "vault",
      tokenPolicies: [vaultPolicy.name],
      tokenNoDefaultPolicy: true,
      tokenTtl: 900,
      tokenMaxTtl: 900,
    });
  }

  const agents = new Construct(new Construct(stack, "agents"), "kubernetes");
  const accountScope = new Construct(agents, "service-accounts");
  const filesScope = new Construct(agents, "role-files");
  const deploymentScope = new Construct(agents, "deployments");
  const serviceAccounts: Record<string, ServiceAccountV1> = {};
  const fileMaps: Record<string, ConfigMapV1> = {};
  for (const role of ROLES) {
    const roleLabels = { ...MANAGED_BY, "rapidclaw.dev/component": "agent", "rapidclaw.dev/role": role.id };
    serviceAccounts[role.name] = new ServiceAccountV1(accountScope, role.id, {
      metadata: { name: `${role.id}-agent`, namespace, labels: roleLabels },
      automountServiceAccountToken: false,
    });
    fileMaps[role.name] = new ConfigMapV1(filesScope, role.id, {
      metadata: { name: `${role.id}-agent-files`, namespace, labels: roleLabels },
      data: { "profile.json": literal(ROLE_PROFILES[role.name].json), "profile.yaml": literal(ROLE_PROFILES[role.name].yaml) },
    });
  }
  const agentList = [
    { name: "hermes-agent", image: "nousresearch/hermes-agent:latest", role: ROLES[0], cpu: "500m", memory: "1024Mi" },
    { name: "openclaw-agent", image: "openclaw/agent:latest", role: ROLES[1], cpu: "1000m", memory: "2048Mi" },
  ];
  for (const agent of agentList) {
    const role = agent.role;
    const proxyUrl = `http://${serviceHost}:${role.port}`;
    const labels = { ...MANAGED_BY, "rapidclaw.dev/agent": agent.name, "rapidclaw.dev/component": "agent", "rapidclaw.dev/role": role.id };
    const profiles = ROLE_PROFILES[role.name];
    const filesSha256 = sha256(JSON.stringify([["/etc/rapidclaw/profile.json", profiles.json], ["/etc/rapidclaw/profile.yaml", profiles.yaml]]));
    const quantities = { cpu: agent.cpu, memory: agent.memory };
    new DeploymentV1(deploymentScope, agent.name, {
      metadata: { name: agent.name, namespace, labels },
      spec: {
        replicas: "1",
        selector: { matchLabels: { "rapidclaw.dev/component": "agent", "rapidclaw.dev/agent": agent.name } },
        template: {
          metadata: { labels, annotations: { "rapidclaw.dev/files-sha256": filesSha256 } },
          spec: {
            serviceAccountName: serviceAccounts[role.name].metadata.name,
            automountServiceAccountToken: false,
            securityContext: podSecurityContext("10001"),
            container: [
              {
                name: agent.name,
                image: agent.image,
                env: [
                  { name: "HTTPS_PROXY", value: proxyUrl },
                  { name: "HTTP_PROXY", value: proxyUrl },
                  { name: "NO_PROXY", value: NO_PROXY },
                  { name: "RAPIDCLAW_PROFILE", value: "/etc/rapidclaw/profile.json" },
                  { name: "RAPIDCLAW_ROLE", value: role.name },
                  { name: "http_proxy", value: proxyUrl },
                  { name: "https_proxy", value: proxyUrl },
                  { name: "no_proxy", value: NO_PROXY },
                ],
                resources: { requests: quantities, limits: quantities },
                securityContext: CONTAINER_SECURITY_CONTEXT,
                volumeMount: [
                  { name: "tmp", mountPath: "/tmp" },
                  { name: "vault-token", mountPath: "/var/run/secrets/vault", readOnly: true },
                  { name: "role-files", mountPath: "/etc/rapidclaw", readOnly: true },
                ],
              },
            ],
            volume: [
              { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
              { name: "vault-token", projected: [{ sources: [{ serviceAccountToken: { audience: "vault", expirationSeconds: 600, path: "token" } }] }] },
              {
                name: "role-files",
                configMap: {
                  name: fileMaps[role.name].metadata.name,
                  defaultMode: "0444",
                  items: [{ key: "profile.json", path: "profile.json" }, { key: "profile.yaml", path: "profile.yaml" }],
                },
              },
            ],
          },
        },
      },
    });
  }

  new TerraformOutput(stack, "proxy_urls", {
    description: "Proxy URL (HTTPS_PROXY) of each role",
    value: Object.fromEntries(ROLES.map((role) => [role.name, `http://${serviceHost}:${role.port}`])),
  });
  return stack;
}
