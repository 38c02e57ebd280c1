import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseHcl } from "@cdktf/hcl2json";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { VaultProvider } from "@cdktf/provider-vault/lib/provider";
import { App, TerraformStack, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { AgentFleet, AgentPlatform, AlertSeverity, WebhookFormat, EgressProxy, FirewallSpec, IsolatedAgentNetwork, KeyGrantee, RapidClawStack, ScopedAgentKeys, type FirewallSpecProps } from "../src";
import { KubernetesToolGateway, type KubernetesToolGatewayProps } from "../src/kubernetes/tool-gateway";
import { servicePeers } from "../src/kubernetes/network-policy";
import { CHECKSUM_ANNOTATIONS, rolePortName } from "../src/kubernetes/pod";
import { VAULT_TOKEN_AUDIENCE, VAULT_TOKEN_PATH } from "../src/kubernetes/agents";
import { planOf } from "../src/plan/firewall-spec";
import { LABELS } from "../src/plan/plan";
import { GatewayBundle } from "../src/constructs/gateway-bundle";
import { ProxyEvents } from "../src/constructs/proxy-events";
import { synthesize, type SynthesizedStack } from "./support/synth";
import { bundlePartBytes, parseBundlePart } from "./support/bundle-part-expression";
import { onPath, skipLoudly } from "./e2e/support/prerequisites";

type Json = Record<string, any>;
type Labels = Record<string, string>;

const VAULT = "https://vault.vault.svc:8200";

/** The example firewall with two tools behind the gateway (their keys held by it) and one key left with the agents. */
function gatewaySpec(extra: Partial<FirewallSpecProps> = {}): FirewallSpecProps {
  const base = firewallScenario(AgentPlatform.KUBERNETES);
  return {
    ...base,
    tools: {
      ...base.tools,
      web_search: { ...base.tools.web_search, upstream: "https://api.search.example.com" },
      send_email: { ...base.tools.send_email, upstream: "https://mail.example.com:8443" },
    },
    vault: { address: VAULT },
    ...extra,
  };
}

/** The firewall's network, proxy, keys and agents, and the gateway built from them with its key grant. */
function gatewayStack(props: FirewallSpecProps = gatewaySpec(), options: Partial<KubernetesToolGatewayProps> = {}, app = new App()) {
  const stack = new TerraformStack(app, "firewall");
  new KubernetesProvider(stack, "kubernetes", {});
  new VaultProvider(stack, "vault", {});
  new RandomProvider(stack, "random", {});
  new TimeProvider(stack, "time", {});
  const spec = FirewallSpec.fromProps(props);
  const plan = planOf(spec);
  const network = new IsolatedAgentNetwork(stack, "network", { spec });
  const proxy = new EgressProxy(stack, "egress-proxy", { network });
  const keys = new ScopedAgentKeys(stack, "keys", { spec });
  new AgentFleet(stack, "agents", { network, proxy });
  const custody = plan.gateway?.custodyTools ?? [];
  const credentials = plan.gateway?.redis.credentialsSecret;
  const keyGrant = plan.gateway?.readsVault ? keys.grantRead(KeyGrantee.fromName(plan.gateway!.name), custody, { secrets: credentials === undefined ? [] : [credentials] }) : undefined;
  const gateway = new KubernetesToolGateway(stack, "tool-gateway", { spec, namespaceName: network.namespaceName, grant: keyGrant, authPath: keys.authPath, upstreamProxyUrl: proxy.gatewayProxyUrl, ...options });
  new ProxyEvents(stack, "proxy-events", { proxy });
  return { stack, spec, plan, proxy, gateway, keyGrant, synth: synthesize(stack) };
}

const byName = (s: SynthesizedStack, type: string, name: string) => s.resources(type).find((r) => r.metadata.name === name) as Json;
const policies = (s: SynthesizedStack) => s.resources("kubernetes_network_policy_v1");

/** Whether a `match_labels` selector selects a set of labels (an empty one selects all). */
function selects(selector: Json | undefined, labels: Labels): boolean {
  if (selector?.match_expressions !== undefined) throw new Error("selector form not understood by this test");
  return Object.entries(selector?.match_labels ?? {}).every(([k, v]) => labels[k] === v);
}

/** Whether a peer of a policy in the pods' own namespace selects pods with these labels. */
const peerSelectsPod = (peer: Json, labels: Labels) => peer.pod_selector !== undefined && peer.namespace_selector === undefined && selects(peer.pod_selector, labels);

/** Every (peer, port) the policies selecting a pod allow in one direction. */
function grants(s: SynthesizedStack, labels: Labels, direction: "Ingress" | "Egress") {
  const key = direction === "Ingress" ? "ingress" : "egress";
  const side = direction === "Ingress" ? "from" : "to";
  return policies(s)
    .filter((p) => p.spec.policy_types.includes(direction) && selects(p.spec.pod_selector, labels))
    .flatMap((p) => (p.spec[key] ?? []).flatMap((rule: Json) => {
      expect(rule[side], `a rule without \`${side}\` allows every peer`).toBeDefined();
      expect(rule.ports, "a rule without `ports` allows every port").toBeDefined();
      return rule[side].flatMap((peer: Json) => rule.ports.map((port: Json) => ({ peer, port: `${port.protocol}/${port.port}` })));
    }));
}

/** Pod template labels of every Deployment, by Deployment name. */
function podLabels(s: SynthesizedStack): Map<string, Labels> {
  return new Map(s.resources("kubernetes_deployment_v1").map((d) => [d.metadata.name, d.spec.template.metadata.labels]));
}

const GATEWAY_POD: Labels = { [LABELS.component]: "tool-gateway" };
const REDIS_POD: Labels = { [LABELS.component]: "gateway-redis" };

describe("Kubernetes tool gateway: workload", () => {
  const { plan, gateway, synth } = gatewayStack();
  const planned = plan.gateway!;
  const deployment = byName(synth, "kubernetes_deployment_v1", "rapidclaw-tool-gateway");
  const pod = deployment.spec.template.spec;
  const container = (name: string) => pod.container.find((c: Json) => c.name === name);

  it("runs gateway.replicas (at least 2) pods with a PodDisruptionBudget keeping all but one", () => {
    expect(deployment.spec.replicas).toBe("2");
    expect(byName(synth, "kubernetes_pod_disruption_budget_v1", "rapidclaw-tool-gateway").spec).toEqual({
      max_unavailable: "1",
      selector: { match_labels: deployment.spec.selector.match_labels },
    });
    const three = gatewayStack(gatewaySpec({ gateway: { replicas: 3 } }));
    expect(byName(three.synth, "kubernetes_deployment_v1", "rapidclaw-tool-gateway").spec.replicas).toBe("3");
  });

  it("runs the pinned Node image on the bundle with the firewall file, key directory and Redis", () => {
    const gw = container("gateway");
    expect(gw.image).toBe(planned.image);
    expect(gw.image).toMatch(/^node:\d+\.\d+\.\d+-/);
    expect(gw.command).toEqual([
      "node", planned.paths.bundle, "gateway", "--config", planned.paths.config, "--key-dir", planned.paths.keyDir,
      "--redis", "redis://rapidclaw-gateway-redis:6379", "--admin-port", String(planned.adminPort), "--drain-timeout-sec", "30",
    ]);
    expect(gw.readiness_probe.http_get).toEqual({ path: "/readyz", port: "admin" });
    expect(gw.liveness_probe.http_get).toEqual({ path: "/healthz", port: "admin" });
    expect(gw.port).toContainEqual({ name: "admin", container_port: planned.adminPort, protocol: "TCP" });
    expect(gw.volume_mount).toEqual([
      { name: "config", mount_path: "/etc/rapidclaw", read_only: true },
      { name: "bundle", mount_path: "/opt/rapidclaw", read_only: true },
      { name: "keys", mount_path: planned.paths.keyDir, read_only: true },
    ]);
  });

  it("drains on rollout: a preStop pause, then SIGTERM, and a grace period above the pause, the drain and the flush", () => {
    const gw = container("gateway");
    // The pause needs nothing but the Node the image has for the gateway itself.
    expect(gw.lifecycle).toEqual({ pre_stop: [{ exec: { command: ["node", "-e", "setTimeout(() => {}, 5000)"] } }] });
    const grace = deployment.spec.template.spec.termination_grace_period_seconds;
    expect(grace).toBe(45);
    expect(grace).toBeGreaterThan(5 + 30 + 5);
  });

  it("hardens the pod and every container, and mounts no API token", () => {
    expect(pod.automount_service_account_token).toBe(false);
    expect(pod.service_account_name).toMatch(/^\$\{kubernetes_service_account_v1\.[^.]+\.metadata\[0\]\.name\}$/);
    expect(pod.security_context).toMatchObject({ run_as_non_root: true, run_as_user: "10002", seccomp_profile: { type: "RuntimeDefault" } });
    for (const c of pod.container) {
      expect(c.security_context).toMatchObject({ allow_privilege_escalation: false, privileged: false, read_only_root_filesystem: true, capabilities: { drop: ["ALL"] } });
      expect(c.resources.limits).toBeDefined();
    }
    expect(byName(synth, "kubernetes_service_account_v1", "rapidclaw-tool-gateway").automount_service_account_token).toBe(false);
  });

  it("renders keys with a Vault Agent sidecar into a memory volume the gateway only reads", () => {
    const agent = container("vault-agent");
    expect(agent.image).toMatch(/^hashicorp\/vault:\d+\.\d+\.\d+$/);
    expect(agent.command).toEqual(["vault", "agent", `-config=${planned.paths.vaultAgentConfig}`]);
    expect(agent.volume_mount).toContainEqual({ name: "keys", mount_path: planned.paths.keyDir });
    expect(pod.volume.find((v: Json) => v.name === "keys")).toEqual({ name: "keys", empty_dir: { medium: "Memory", size_limit: "1Mi" } });
    const token = pod.volume.find((v: Json) => v.name === "vault-token");
    expect(token.projected[0].sources[0].service_account_token.audience).toBe(VAULT_TOKEN_AUDIENCE);
    expect(container("gateway").volume_mount.some((m: Json) => m.name === "vault-token")).toBe(false);
  });

  it("serves each role on its own Service port, in role order", () => {
    const service = byName(synth, "kubernetes_service_v1", "rapidclaw-tool-gateway");
    expect(service.spec.port).toEqual(planned.roles.map((r, i) => ({ name: rolePortName(i), port: r.port, target_port: rolePortName(i), protocol: "TCP" })));
    expect(service.spec.port.map((p: Json) => p.port)).toEqual([8080, 8081]);
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
    expect(gateway.serviceHost).toMatch(/^rapidclaw-tool-gateway\..+\.svc$/);
    // Agents reach the gateway by the Service's cluster IP: they resolve no names.
    expect(gateway.gatewayUrls).toEqual({ customer_support: `http://${gateway.serviceAddress}:8080`, research_agent: `http://${gateway.serviceAddress}:8081` });
  });

  it("bundles Redis: one replica, no persistence, hardened, behind its own Service", () => {
    const redis = byName(synth, "kubernetes_deployment_v1", "rapidclaw-gateway-redis");
    expect(redis.spec.replicas).toBe("1");
    const [c] = redis.spec.template.spec.container;
    expect(c.image).toBe(planned.redis.image);
    expect(c.command).toEqual(expect.arrayContaining(["--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"]));
    expect(c.command[c.command.indexOf("--save") + 1]).toBe("");
    expect(redis.spec.template.spec.security_context).toMatchObject({ run_as_user: "999", run_as_non_root: true });
    expect(c.security_context).toMatchObject({ read_only_root_filesystem: true, allow_privilege_escalation: false });
    expect(redis.spec.template.spec.automount_service_account_token).toBe(false);
    expect(byName(synth, "kubernetes_service_v1", "rapidclaw-gateway-redis").spec.port).toEqual([{ name: "redis", port: 6379, target_port: "redis", protocol: "TCP" }]);
  });
});

describe("Kubernetes tool gateway: configuration", () => {
  const { plan, gateway, synth } = gatewayStack();
  const planned = plan.gateway!;
  const configMap = byName(synth, "kubernetes_config_map_v1", "rapidclaw-tool-gateway");
  const pod = byName(synth, "kubernetes_deployment_v1", "rapidclaw-tool-gateway").spec.template.spec;
  const checksumOf = (s: SynthesizedStack) => byName(s, "kubernetes_deployment_v1", "rapidclaw-tool-gateway").spec.template.metadata.annotations[CHECKSUM_ANNOTATIONS.gatewayConfig];

  it("holds the firewall file the gateway loads, with one listener per role on its port", () => {
    const file = JSON.parse(configMap.data["firewall.json"]);
    expect(configMap.data["firewall.json"]).toBe(planned.configJson);
    expect(file.gateway.listeners).toEqual(planned.roles.map((r) => ({ port: r.port, role: r.role })));
  });

  it("holds a Vault Agent config that parses as HCL: Kubernetes login as the gateway, one template per key it holds", async () => {
    const hcl = configMap.data["vault-agent.hcl"];
    expect(hcl).toBe(gateway.vaultAgentConfig);
    const parsed = (await parseHcl("vault-agent.hcl", hcl)) as Json;
    expect(parsed.vault[0].address).toBe(VAULT);
    const method = parsed.auto_auth[0].method.kubernetes[0];
    expect(method.mount_path).toBe(`auth/${plan.vault.authPath}`);
    expect(method.config).toEqual({ role: "rapidclaw-tool-gateway", token_path: VAULT_TOKEN_PATH });
    expect(parsed.template.map((t: Json) => t.destination)).toEqual(planned.custodyTools.map((tool) => `${planned.paths.keyDir}/${tool}`));
    expect(planned.custodyTools).toEqual(["send_email", "web_search"]);
  });

  /** `<gateway>-bundle` is part 0, `<gateway>-bundle-<i>` part i. */
  const partIndex = (name: string) => Number(/-bundle-(\d+)$/.exec(name)?.[1] ?? 0);

  /** The gateway's bundle ConfigMaps in order, each with its one part expression read. */
  const bundlePartsOf = (doc: Json) => Object.values<Json>(doc.resource.kubernetes_config_map_v1)
    .filter((c) => /^rapidclaw-tool-gateway-bundle(-\d+)?$/.test(c.metadata.name))
    .sort((a, b) => partIndex(a.metadata.name) - partIndex(b.metadata.name))
    .map((c) => parseBundlePart(c.data["rapidclaw-gateway.cjs.part"]));

  it("ships the package's bundle in ConfigMap parts under 1 MiB each, taken from the stack's file asset of it, which the init container joins back byte for byte", () => {
    const bundle = GatewayBundle.packaged();
    const file = readFileSync(bundle.path);
    const parts = bundlePartsOf(synth.doc);
    // The bundle is over 1 MiB now (undici): one part would be refused by the API server.
    expect(file.length).toBeGreaterThan(1024 * 1024);
    expect(parts.length).toBeGreaterThan(1);
    // The JSON names the asset (its path carries the bundle's sha256), never the program.
    const sha256 = createHash("sha256").update(file).digest("hex");
    for (const part of parts) expect(part.path).toBe(`assets/rapidclaw-gateway-bundle-${sha256.slice(0, 12)}/${sha256}/rapidclaw-gateway.cjs`);
    expect(synth.json).not.toContain(bundle.text.slice(0, 200));
    const bytes = parts.map((part) => bundlePartBytes(part, file));
    for (const part of bytes) expect(part.length).toBeLessThan(1024 * 1024);
    const init = pod.init_container.find((c: Json) => c.name === "join-bundle");
    const [, , program, out, ...partFiles] = init.command as string[];
    expect(out).toBe(planOf(FirewallSpec.fromProps(gatewaySpec())).gateway?.paths.bundle);
    // Run the init container's own program on the parts as mounted.
    const dir = mkdtempSync(join(tmpdir(), "rapidclaw-bundle-parts-"));
    try {
      const written = bytes.map((part, i) => {
        const local = join(dir, `${i}.part`);
        writeFileSync(local, part);
        return local;
      });
      expect(partFiles.map((f) => f.split("/").pop())).toEqual(partFiles.map(() => "rapidclaw-gateway.cjs.part"));
      const joined = join(dir, "joined.cjs");
      const run = spawnSync(process.execPath, ["-e", program, joined, ...written], { encoding: "utf8" });
      expect(run.stderr).toBe("");
      expect(readFileSync(joined).equals(file)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const gatewayContainer = pod.container.find((c: Json) => c.name === "gateway");
    expect(gatewayContainer.volume_mount.find((m: Json) => m.name === "bundle")).toMatchObject({ mount_path: "/opt/rapidclaw", read_only: true });
    expect(pod.volume.find((v: Json) => v.name === "bundle-0").config_map.name).toMatch(/^\$\{kubernetes_config_map_v1\..+\.metadata\[0\]\.name\}$/);
  });

  it.skipIf(skipLoudly("bundle parts evaluated by terraform", onPath("terraform") ? undefined : "terraform is not on PATH (.ci/run cannot install it: no Debian package; the machines carry it)"))("gives Terraform, reading the asset synthesis wrote beside the stack, each part's bytes (terraform console)", () => {
    const outdir = mkdtempSync(join(tmpdir(), "rapidclaw-bundle-synth-"));
    const consoleDir = mkdtempSync(join(tmpdir(), "rapidclaw-bundle-console-"));
    try {
      const app = new App({ outdir });
      gatewayStack(gatewaySpec(), {}, app);
      app.synth();
      const stackDir = join(outdir, "stacks", "firewall");
      const parts = bundlePartsOf(JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")));
      // Terraform reads the asset by its path relative to the stack's directory; an empty
      // configuration beside it lets the console run without terraform init.
      symlinkSync(join(stackDir, "assets"), join(consoleDir, "assets"));
      const hashes = `jsonencode([${parts.map((p) => `sha256(base64decode(substr(filebase64("${p.path}"), ${p.offset}, ${p.length})))`).join(", ")}])`;
      const run = spawnSync("terraform", ["console", "-no-color"], { cwd: consoleDir, input: hashes, encoding: "utf8", env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null", CHECKPOINT_DISABLE: "1" } });
      expect(run.stderr).toBe("");
      const file = readFileSync(GatewayBundle.packaged().path);
      expect(JSON.parse(JSON.parse(run.stdout))).toEqual(parts.map((p) => createHash("sha256").update(bundlePartBytes(p, file)).digest("hex")));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
      rmSync(consoleDir, { recursive: true, force: true });
    }
  });

  it("with gateway.image runs that image with the bundle it holds: no bundle ConfigMap, no init container, nothing mounted over it", () => {
    const image = `registry.example.com/rapidclaw-gateway@sha256:${"cd".repeat(32)}`;
    const own = gatewayStack(gatewaySpec({ gateway: { image } }));
    const ownPod = byName(own.synth, "kubernetes_deployment_v1", "rapidclaw-tool-gateway").spec.template.spec;
    expect(own.gateway.bundleConfigMaps).toEqual([]);
    expect(own.gateway.bundleConfigMap).toBeUndefined();
    expect(own.synth.resources("kubernetes_config_map_v1").map((c) => c.metadata.name).filter((n) => n.includes("bundle"))).toEqual([]);
    expect(ownPod.init_container).toBeUndefined();
    const container = ownPod.container.find((c: Json) => c.name === "gateway");
    expect(container.image).toBe(image);
    expect(container.command.slice(0, 2)).toEqual(["node", "/opt/rapidclaw/rapidclaw-gateway.cjs"]);
    expect(container.volume_mount.map((m: Json) => m.mount_path)).not.toContain("/opt/rapidclaw");
    expect(ownPod.volume.map((v: Json) => v.name).filter((n: string) => n.startsWith("bundle"))).toEqual([]);
    // No file asset of the bundle either.
    expect(own.synth.json).not.toContain("assets/rapidclaw-gateway-bundle-");
    expect(synth.json).toContain("assets/rapidclaw-gateway-bundle-");
  });

  it("rolls the pods when the firewall file or the bundle changes, and synthesizes byte-identical JSON otherwise", () => {
    expect(checksumOf(synth)).toBe(gateway.configChecksum);
    expect(gatewayStack().synth.json).toBe(synth.json);
    const base = gatewaySpec();
    const limited = gatewayStack({ ...base, tools: { ...base.tools, web_search: { ...base.tools.web_search, rateLimit: { maxCalls: 21, windowSec: 60 } } } });
    expect(checksumOf(limited.synth)).not.toBe(checksumOf(synth));
    const dir = mkdtempSync(join(tmpdir(), "hgwk-bundle-"));
    try {
      const other = join(dir, "rapidclaw-gateway.cjs");
      writeFileSync(other, `${GatewayBundle.packaged().text}\n// another build\n`);
      expect(checksumOf(gatewayStack(base, { bundle: GatewayBundle.fromFile(other) }).synth)).not.toBe(checksumOf(synth));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a missing bundle, saying how to build one, before adding anything", () => {
    const missing = join(tmpdir(), `hgwk-${process.pid}-none`, "rapidclaw-gateway.cjs");
    expect(existsSync(missing)).toBe(false);
    expect(() => GatewayBundle.fromFile(missing)).toThrow(/rapidclaw-gateway\.cjs does not exist.*npm run build/);
  });
});

describe("Kubernetes tool gateway: Vault", () => {
  const { plan, keyGrant, synth } = gatewayStack();

  it("binds the gateway's login role to its ServiceAccount and namespace, with the grant's policy alone", () => {
    const [login] = Object.values(synth.doc.resource.vault_kubernetes_auth_backend_role).filter((r: any) => r.role_name === "rapidclaw-tool-gateway") as Json[];
    expect(login.bound_service_account_names).toEqual([expect.stringMatching(/^\$\{kubernetes_service_account_v1\..+\.metadata\[0\]\.name\}$/)]);
    expect(login.bound_service_account_namespaces).toHaveLength(1);
    expect(login.audience).toBe(VAULT_TOKEN_AUDIENCE);
    expect(login.token_no_default_policy).toBe(true);
    expect(login.token_policies).toEqual([expect.stringContaining("vault_policy.")]);
    expect(keyGrant!.tools).toEqual(["send_email", "web_search"]);
    expect(keyGrant!.policyDocument).toContain('"agent-keys/data/tools/web-search"');
    expect(plan.roles.find((r) => r.name === "research_agent")!.keyGrants).toEqual(["database"]);
  });

  it("gives no role a policy or login for a key the gateway holds", () => {
    const agentPolicies = Object.values(synth.doc.resource.vault_policy ?? {}).filter((p: any) => p.name !== "rapidclaw-tool-gateway") as Json[];
    for (const policy of agentPolicies) expect(policy.policy).not.toMatch(/web-search|send-email/);
  });

  it("has no login role and no sidecar when the gateway holds no key", () => {
    const base = gatewaySpec();
    const { key: _searchKey, ...search } = base.tools.web_search;
    const { key: _emailKey, ...email } = base.tools.send_email;
    const agentKeys = gatewayStack({ ...base, tools: { ...base.tools, web_search: search, send_email: email } });
    expect(agentKeys.gateway.vaultLoginRole).toBeUndefined();
    const pod = byName(agentKeys.synth, "kubernetes_deployment_v1", "rapidclaw-tool-gateway").spec.template.spec;
    expect(pod.container.map((c: Json) => c.name)).toEqual(["gateway"]);
    expect(policies(agentKeys.synth).find((p) => p.metadata.name === "rapidclaw-tool-gateway")!.spec.egress.some((r: Json) => r.ports.some((p: Json) => p.port === "8200"))).toBe(false);
  });
});

describe("Kubernetes tool gateway: NetworkPolicies", () => {
  const { plan, synth, proxy } = gatewayStack();
  const planned = plan.gateway!;
  const pods = podLabels(synth);
  const agentPods = [...pods].filter(([, labels]) => labels[LABELS.component] === "agent");

  it("lets each role's pods reach the gateway on their own port only", () => {
    expect(agentPods).toHaveLength(2);
    for (const [, labels] of agentPods) {
      const role = plan.roles.find((r) => r.resourceName === labels[LABELS.role])!;
      const port = planned.roles.find((r) => r.role === role.name)!.port;
      const toGateway = grants(synth, labels, "Egress").filter((g) => peerSelectsPod(g.peer, GATEWAY_POD));
      expect(toGateway.map((g) => g.port)).toEqual([`TCP/${port}`]);
    }
  });

  it("admits each role's pods on that role's port only, and nobody else", () => {
    const ingress = grants(synth, { ...GATEWAY_POD, ...pods.get("rapidclaw-tool-gateway") }, "Ingress");
    for (const [, labels] of agentPods) {
      const role = plan.roles.find((r) => r.resourceName === labels[LABELS.role])!;
      const port = planned.roles.find((r) => r.role === role.name)!.port;
      expect(ingress.filter((g) => peerSelectsPod(g.peer, labels)).map((g) => g.port)).toEqual([`TCP/${port}`]);
    }
    for (const g of ingress) expect(g.peer.pod_selector?.match_labels?.[LABELS.component]).toBe("agent");
    expect(ingress).toHaveLength(planned.roles.length);
  });

  it("lets only the gateway and the proxy (its proxy-events sidecar keeps the alert windows there) reach Redis, and Redis nothing", () => {
    const redisIngress = grants(synth, pods.get("rapidclaw-gateway-redis")!, "Ingress");
    const proxyPod = { [LABELS.component]: "egress-proxy" };
    expect(redisIngress.map((g) => [g.peer, g.port])).toEqual([[{ pod_selector: { match_labels: GATEWAY_POD } }, "TCP/6379"], [{ pod_selector: { match_labels: proxyPod } }, "TCP/6379"]]);
    expect(grants(synth, pods.get("rapidclaw-gateway-redis")!, "Egress")).toEqual([]);
    const redisLabels = pods.get("rapidclaw-gateway-redis")!;
    for (const [name, labels] of pods) {
      const reaches = grants(synth, labels, "Egress").some((g) => peerSelectsPod(g.peer, redisLabels));
      expect(reaches, name).toBe(name === "rapidclaw-tool-gateway" || name === "rapidclaw-egress-proxy");
    }
  });

  it("lets the gateway reach DNS, Redis, Vault and its upstreams only through the proxy's gateway listener: no address range at all", () => {
    const egress = grants(synth, pods.get("rapidclaw-tool-gateway")!, "Egress");
    expect(egress.filter((g) => g.peer.ip_block !== undefined)).toEqual([]);
    // Just below the roles' ports (proxy.port 3128 - 1), so it never moves when roles come and go.
    const listenerPort = 3127;
    const toProxy = egress.filter((g) => g.peer.pod_selector?.match_labels?.[LABELS.component] === "egress-proxy");
    expect(toProxy.map((g) => g.port)).toEqual([`TCP/${listenerPort}`]);
    const deployment = byName(synth, "kubernetes_deployment_v1", "rapidclaw-tool-gateway");
    const env = deployment.spec.template.spec.container.find((c: Json) => c.name === "gateway").env;
    expect(env).toEqual([{ name: "RAPIDCLAW_UPSTREAM_PROXY", value: expect.stringMatching(new RegExp(`^http://\\$\\{kubernetes_service_v1\\.egress-proxy_kubernetes_service_[0-9A-F]+\\.spec\\[0\\]\\.cluster_ip\\}:${listenerPort}$`)) }]);
    // The proxy admits gateway pods on that listener alone, and its squid.conf serves the upstream hosts there.
    const proxyIngress = policies(synth).find((p) => p.metadata.name === "rapidclaw-egress-proxy")!.spec.ingress;
    expect(proxyIngress.filter((r: Json) => r.ports.some((p: Json) => p.port === String(listenerPort)))).toEqual([{ from: [{ pod_selector: { match_labels: GATEWAY_POD } }], ports: [{ protocol: "TCP", port: String(listenerPort) }] }]);
    expect(proxy.squidConf).toMatch(new RegExp(`^http_port ${listenerPort} .*name=tool_gateway$`, "m"));
    const vault = egress.filter((g) => g.port === "TCP/8200");
    expect(vault.map((g) => g.peer)).toEqual([{ namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "vault" } } }]);
    expect(egress.filter((g) => g.port === "TCP/6379").map((g) => g.peer)).toEqual([{ pod_selector: { match_labels: REDIS_POD } }]);
    const others = egress.filter((g) => ![`TCP/${listenerPort}`, "TCP/8200", "TCP/6379"].includes(g.port));
    expect(others.every((g) => g.port.endsWith("/53"))).toBe(true);
  });

  it("with alert webhooks (URLs in Secrets, hosts unknown to the proxy) opens the gateway 443 to public addresses only, the forbidden ranges excepted", () => {
    const base = gatewaySpec();
    const withHooks = gatewayStack(gatewaySpec({ monitoring: { ...base.monitoring, webhooks: [{ severity: AlertSeverity.CRITICAL, format: WebhookFormat.SLACK, kubernetesSecret: "alert-hooks" }] } }));
    const gatewayPod = pods.get("rapidclaw-tool-gateway")!;
    const ranges = grants(withHooks.synth, gatewayPod, "Egress").filter((g) => g.peer.ip_block !== undefined);
    const forbidden = withHooks.plan.proxy.forbiddenCidrs;
    expect(ranges.map((g) => [g.peer.ip_block.cidr, g.port])).toEqual([["0.0.0.0/0", "TCP/443"], ["::/0", "TCP/443"]]);
    expect(ranges.flatMap((g) => g.peer.ip_block.except ?? []).sort()).toEqual([...forbidden].sort());
    expect(grants(synth, gatewayPod, "Egress").filter((g) => g.peer.ip_block !== undefined)).toEqual([]);
  });

  it("keeps the gateway listener's port when roles are added, and gives no role that port", () => {
    const base = gatewaySpec();
    const grown = gatewaySpec({ roles: { ...base.roles, aaa_first: {}, zzz_last: {} } });
    const listener = (props: FirewallSpecProps) => gatewayStack(props).proxy.squidConf.match(/^http_port (\d+) .*name=tool_gateway$/m)?.[1];
    expect(listener(grown)).toBe(listener(base));
    const grownPlan = planOf(FirewallSpec.fromProps(grown));
    expect(grownPlan.roles.map((r) => String(r.proxyPort))).not.toContain(listener(grown));
  });

  it("reads Redis credentials from Vault: the gateway's Vault Agent renders them to the file the gateway is given, and its policy reads exactly that secret besides its keys", async () => {
    const built = gatewayStack(gatewaySpec({ gateway: { redis: { url: "rediss://10.20.0.7:6380", credentialsSecret: "redis-login" } } }));
    const planned = built.plan.gateway!;
    const deployment = byName(built.synth, "kubernetes_deployment_v1", "rapidclaw-tool-gateway");
    const command: string[] = deployment.spec.template.spec.container.find((c: Json) => c.name === "gateway").command;
    expect(command.slice(command.indexOf("--redis"), command.indexOf("--redis") + 4)).toEqual(["--redis", "rediss://10.20.0.7:6380", "--redis-credentials-file", "/run/rapidclaw/keys/redis-credentials.json"]);
    const parsed = (await parseHcl("vault-agent.hcl", built.gateway.vaultAgentConfig!)) as Json;
    const template = parsed.template.find((t: Json) => t.destination === planned.paths.redisCredentials);
    expect(template).toMatchObject({ perms: "0400", error_on_missing_key: true, contents: expect.stringContaining(`{{ with secret "${built.plan.vault.mountPath}/data/redis-login" }}`) });
    const policy = built.synth.resources("vault_policy").find((p) => p.name === "rapidclaw-tool-gateway")!;
    const paths = (await parseHcl("policy.hcl", policy.policy)) as Json;
    const mount = built.plan.vault.mountPath;
    expect(paths.path).toEqual(Object.fromEntries([`${mount}/data/redis-login`, `${mount}/data/tools/send-email`, `${mount}/data/tools/web-search`].map((path) => [path, [{ capabilities: ["read"] }]])));
    expect(built.synth.resources("vault_kubernetes_auth_backend_role").find((r) => r.role_name === "rapidclaw-tool-gateway")?.token_policies).toEqual([expect.stringContaining("vault_policy.")]);
  });

  it("with an existing Redis: no bundled Redis, egress to that Redis alone (its CIDRs when given)", () => {
    const external = gatewayStack(gatewaySpec({ gateway: { redis: { url: "rediss://10.20.0.7:6380" } } }));
    expect(external.synth.resources("kubernetes_deployment_v1").map((d) => d.metadata.name)).not.toContain("rapidclaw-gateway-redis");
    const egress = grants(external.synth, GATEWAY_POD, "Egress").filter((g) => g.port === "TCP/6380");
    expect(egress.map((g) => g.peer)).toEqual([{ ip_block: { cidr: "10.20.0.7/32" } }]);
    const named = gatewayStack(gatewaySpec({ gateway: { redis: { url: "rediss://redis.internal.example:6380" } } }), { redisCidrs: ["10.20.0.0/24"] });
    expect(grants(named.synth, GATEWAY_POD, "Egress").filter((g) => g.port === "TCP/6380").map((g) => g.peer)).toEqual([{ ip_block: { cidr: "10.20.0.0/24" } }]);
  });
});

describe("servicePeers: a service URL as NetworkPolicy peers", () => {
  const plan = planOf(FirewallSpec.fromProps(gatewaySpec()));

  it("reads IP addresses, cluster Service names and other host names", () => {
    expect(servicePeers("https://10.0.0.5:8200", plan, "ai-agents")).toEqual({ peers: [{ ipBlock: { cidr: "10.0.0.5/32" } }], port: 8200 });
    expect(servicePeers("http://[fd00::5]", plan, "ai-agents")).toEqual({ peers: [{ ipBlock: { cidr: "fd00::5/128" } }], port: 80 });
    const inNamespace = (ns: string) => [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } }];
    expect(servicePeers("https://vault.secrets.svc.cluster.local:8200", plan, "ai-agents")).toEqual({ peers: inNamespace("secrets"), port: 8200 });
    expect(servicePeers("http://vault:8200", plan, "ai-agents")).toEqual({ peers: inNamespace("ai-agents"), port: 8200 });
    const publicVault = servicePeers("https://vault.example.com", plan, "ai-agents");
    expect(publicVault.port).toBe(443);
    expect(publicVault.peers.map((p) => p.ipBlock?.cidr)).toEqual(["0.0.0.0/0", "::/0"]);
    expect(publicVault.peers[0].ipBlock?.except).toContain("10.0.0.0/8");
  });
});

describe("Kubernetes tool gateway in a RapidClawStack", () => {
  const stack = new RapidClawStack(new App(), "agent-firewall", gatewaySpec());
  const doc = JSON.parse(Testing.synth(stack, true));

  it("is the ToolGateway's Kubernetes part, and each agent's gateway URL leads to its role's port of the gateway Service", () => {
    const gateway = stack.gateway!.kubernetes;
    const service = Object.values(doc.resource.kubernetes_service_v1).find((sv: any) => sv.metadata.name === "rapidclaw-tool-gateway") as Json;
    const agents = Object.values(doc.resource.kubernetes_deployment_v1).filter((d: any) => d.spec.template.metadata.labels[LABELS.component] === "agent") as Json[];
    expect(agents).toHaveLength(2);
    for (const agent of agents) {
      const role = stack.spec.props.agents!.find((a) => a.name === agent.metadata.name)!.role;
      const url = agent.spec.template.spec.container[0].env.find((e: Json) => e.name === "RAPIDCLAW_GATEWAY_URL").value;
      const port = planOf(stack.spec).gateway!.roles.find((r) => r.role === role)!.port;
      // A reference to the Service's cluster IP, kept a reference in the JSON (agents resolve no names).
      expect(url).toMatch(new RegExp(`^http://\\$\\{kubernetes_service_v1\\.tool-gateway_kubernetes_service_[0-9A-F]+\\.spec\\[0\\]\\.cluster_ip\\}:${port}$`));
      const noProxy = agent.spec.template.spec.container[0].env.find((e: Json) => e.name === "NO_PROXY").value;
      expect(noProxy.split(",")).toContain(url.slice("http://".length, url.lastIndexOf(":")));
      expect(agent.spec.template.spec.dns_policy).toBe("None");
      expect(service.spec.port.map((p: Json) => p.port)).toContain(port);
    }
    expect(gateway.vaultAgentConfig).toBe(stack.gateway!.vaultAgentConfig);
    expect(gateway.vaultAgentConfig).toContain(`token_path = "${VAULT_TOKEN_PATH}"`);
  });
});
