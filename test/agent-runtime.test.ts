import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { App, TerraformStack } from "cdktf";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { AgentPlatform, AgentRuntime, ToolAccess, type FirewallSpecProps } from "../src/model/types";
import { AgentFleet } from "../src/constructs/agent-fleet";
import { EgressProxy } from "../src/constructs/egress-proxy";
import { IsolatedAgentNetwork } from "../src/constructs/isolated-agent-network";
import { FirewallSpec, planOf } from "../src/plan/firewall-spec";
import { OPENCLAW_PLUGIN_ID } from "../src/render/openclaw-config";
import { RapidClawStack } from "../src/rapid-claw-stack";
import { hermesFragment, openClawFragment } from "./support/native-agent-schemas";
import { failureOf } from "./support/spec-error";
import { synthesize, type SynthesizedStack } from "./support/synth";

type Json = Record<string, any>;
const ROOT = join(__dirname, "..");
const packageFile = (path: string) => readFileSync(join(ROOT, path), "utf8");
const PLUGIN_FILES = ["index.js", "openclaw.plugin.json", "package.json"];
/** Variables a runtime sets. */
const RUNTIME_VARIABLE = /^(OPENCLAW_|HERMES_)/;

/** The seed with a page reader mapped to both agents, a gateway, and an agent of each runtime plus one without. */
export function runtimeFleet(platform: AgentPlatform, agents?: FirewallSpecProps["agents"]): FirewallSpecProps {
  const seed = firewallScenario(platform);
  return {
    ...seed,
    tools: { ...seed.tools, web_fetch: { agentTools: { openclaw: ["web_fetch"], hermes: ["web_extract"] } } },
    roles: { ...seed.roles, research_agent: { ...seed.roles.research_agent, tools: { ...seed.roles.research_agent.tools, web_fetch: ToolAccess.READ } } },
    gateway: {},
    agents: agents ?? [
      { name: "openclaw-agent", image: "openclaw/agent:2026.9.6", role: "research_agent", runtime: AgentRuntime.OPENCLAW },
      { name: "hermes-agent", image: "nousresearch/hermes-agent:0.19.0", role: "research_agent", runtime: AgentRuntime.HERMES },
      { name: "hermes-support", image: "nousresearch/hermes-agent:0.19.0", role: "customer_support", runtime: AgentRuntime.HERMES },
      { name: "plain-agent", image: "busybox:1.36", role: "customer_support" },
    ],
  };
}

function build(props: FirewallSpecProps): { stack: RapidClawStack; synth: SynthesizedStack } {
  const stack = new RapidClawStack(new App(), "agent-firewall", props);
  return { stack, synth: synthesize(stack) };
}

/** The agents of a firewall as a user composes them from the parts (network, proxy, fleet), without the stack's gateway. */
function buildFleet(props: FirewallSpecProps): { spec: FirewallSpec; synth: SynthesizedStack } {
  const stack = new TerraformStack(new App(), "agents");
  const spec = FirewallSpec.fromProps(props);
  const network = new IsolatedAgentNetwork(stack, "network", { spec });
  new AgentFleet(stack, "agents", { network, proxy: new EgressProxy(stack, "proxy", { network }) });
  return { spec, synth: synthesize(stack) };
}

/** What Terraform makes of a literal string in the JSON (`$${` and `%%{` are the escaped `${` and `%{`). */
const terraformText = (text: string) => text.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");

/** The role's gateway listener URL, as the plan gives it. */
const gatewayUrlOf = (spec: FirewallSpec, role: string) => planOf(spec).gateway?.roles.find((r) => r.role === role)?.url as string;

/** What an agent sees: its files by path and its environment, from the synthesized resources of either platform. */
interface AgentView {
  readonly files: Map<string, string>;
  readonly env: Map<string, string>;
}

function dockerAgent(synth: SynthesizedStack, name: string): AgentView & { container: Json } {
  const container = synth.resources("docker_container").find((c) => c.name === name) as Json;
  return {
    container,
    files: new Map((container.upload ?? []).map((u: Json) => [u.file, terraformText(u.content)])),
    env: new Map(container.env.map((e: string) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)])),
  };
}

function kubernetesAgent(synth: SynthesizedStack, name: string): AgentView & { pod: Json } {
  const deployment = synth.resources("kubernetes_deployment_v1").find((d) => d.metadata.name === name) as Json;
  const pod = deployment.spec.template.spec;
  // Volumes name their ConfigMap by reference (`${kubernetes_config_map_v1.<id>.metadata[0].name}`).
  const configMaps = new Map(Object.entries(synth.doc.resource.kubernetes_config_map_v1 as Json).map(([id, c]) => [`\${kubernetes_config_map_v1.${id}.metadata[0].name}`, c.data as Json]));
  const volumes = new Map((pod.volume ?? []).map((v: Json) => [v.name, v]));
  const files = new Map<string, string>();
  for (const mount of pod.container[0].volume_mount ?? []) {
    const volume = volumes.get(mount.name) as Json;
    if (!volume.config_map) continue;
    const data = configMaps.get(volume.config_map.name) as Json;
    const items: [string, string][] = mount.sub_path ? [[mount.sub_path, mount.mount_path]] : Object.keys(data).map((key) => [key, posix.join(mount.mount_path, key)]);
    for (const [key, path] of items) files.set(path, terraformText(data[key]));
  }
  return { pod, files, env: new Map(pod.container[0].env.map((e: Json) => [e.name, e.value])) };
}

/** Checks shared by both platforms: each runtime's files where its program reads them, parsed as that program does. */
function expectNativeMounts(spec: FirewallSpec, agentOf: (workload: string) => AgentView): void {
  const bundle = packageFile("dist/gateway/rapidclaw-hook.cjs");

  // OpenClaw: the config at OPENCLAW_CONFIG_PATH, read-only, naming the mounted plugin directory.
  const openclaw = agentOf("openclaw-agent");
  const configPath = openclaw.env.get("OPENCLAW_CONFIG_PATH") as string;
  expect(openclaw.env.get("OPENCLAW_CONFIG_READONLY")).toBe("1");
  const config = JSON.parse(openclaw.files.get(configPath) as string); // strict JSON, a subset of JSON5
  expect(openClawFragment.safeParse(config).error).toBeUndefined();
  expect(config.agents.entries.research_agent.tools).toEqual({ allow: ["web_fetch", "web_search"], deny: [] });
  const [pluginDir] = config.plugins.load.paths;
  for (const name of PLUGIN_FILES) expect(openclaw.files.get(posix.join(pluginDir, name)), name).toBe(packageFile(`openclaw-plugin/${name}`));
  expect(JSON.parse(openclaw.files.get(posix.join(pluginDir, "openclaw.plugin.json")) as string).id).toBe(OPENCLAW_PLUGIN_ID);
  expect(config.plugins.entries[OPENCLAW_PLUGIN_ID].config.gatewayUrl).toBe(gatewayUrlOf(spec, "research_agent"));
  expect(openclaw.env.get("RAPIDCLAW_GATEWAY_URL")).toBe(gatewayUrlOf(spec, "research_agent"));
  expect([...openclaw.files.keys()].some((path) => path.endsWith(".cjs") || path.endsWith("config.yaml"))).toBe(false);

  // Hermes: config.yaml in HERMES_HOME, the hook accepted, its command the mounted bundle under node.
  for (const [workload, role, tools] of [["hermes-agent", "research_agent", ["web_extract=web_fetch:READ", "web_search=web_search:READ"]], ["hermes-support", "customer_support", []]] as const) {
    const hermes = agentOf(workload);
    expect(hermes.env.get("HERMES_ACCEPT_HOOKS")).toBe("1");
    expect(hermes.env.get("RAPIDCLAW_GATEWAY_URL")).toBe(gatewayUrlOf(spec, role));
    const yaml = parse(hermes.files.get(posix.join(hermes.env.get("HERMES_HOME") as string, "config.yaml")) as string, { version: "1.1" });
    expect(hermesFragment.safeParse(yaml).error).toBeUndefined();
    const [node, bundlePath, ...args] = (yaml.hooks.pre_tool_call[0].command as string).split(" ");
    expect(node).toBe("node");
    expect(hermes.files.get(bundlePath) === bundle, `${workload}: ${bundlePath} is the package's bundle`).toBe(true);
    expect(args).toEqual(["hook", "hermes", "--timeout-ms", "9500", ...tools.flatMap((t) => ["--tool", t])]);
    expect([...hermes.files.keys()].some((path) => path.startsWith(pluginDir) || path === configPath)).toBe(false);
  }

  // Nothing for an agent without a runtime, and no key, Vault path or Terraform reference in any runtime file or variable.
  const plain = agentOf("plain-agent");
  expect([...plain.files.keys()].filter((path) => !path.startsWith("/etc/rapidclaw/"))).toEqual([]);
  expect([...plain.env.keys()].filter((name) => RUNTIME_VARIABLE.test(name))).toEqual([]);
  for (const workload of ["openclaw-agent", "hermes-agent", "hermes-support"]) {
    const agent = agentOf(workload);
    // The configuration and the variables; the package's own files are compared with the package above.
    const runtimeText = [...[...agent.files].filter(([path]) => /\.(json|yaml)$/.test(path) && !path.startsWith("/etc/rapidclaw/") && !path.includes("openclaw-plugin")).map(([, text]) => text), ...[...agent.env].filter(([name]) => RUNTIME_VARIABLE.test(name) || name === "RAPIDCLAW_GATEWAY_URL").map(([, value]) => value)].join("\n");
    expect(runtimeText).not.toMatch(/\$\{|random_password|vault|agent-keys|secret/i);
  }
}

describe("agent runtimes on Docker", () => {
  let stack: RapidClawStack;
  let synth: SynthesizedStack;
  beforeAll(() => void ({ stack, synth } = build(runtimeFleet(AgentPlatform.DOCKER))));

  it("uploads each runtime's configuration and files where its program reads them", () => {
    expectNativeMounts(stack.spec, (name) => dockerAgent(synth, name));
  });

  it("keeps a read-only root and puts every upload in a volume, Hermes' home included (it writes its state there)", () => {
    for (const name of ["openclaw-agent", "hermes-agent"]) {
      const { container } = dockerAgent(synth, name);
      expect(container.read_only).toBe(true);
      const volumes = (container.mounts ?? []).map((m: Json) => m.target);
      for (const upload of container.upload) expect(volumes, upload.file).toContain(posix.dirname(upload.file));
      expect(container.upload.every((u: Json) => u.permissions === "0444")).toBe(true);
    }
    expect(dockerAgent(synth, "hermes-agent").container.mounts.map((m: Json) => m.target)).toContain(dockerAgent(synth, "hermes-agent").env.get("HERMES_HOME"));
  });

  it("is deterministic, and only agents with the Hermes runtime carry the bundle", () => {
    expect(synthesize(new RapidClawStack(new App(), "agent-firewall", runtimeFleet(AgentPlatform.DOCKER))).json).toBe(synth.json);
    const agents = new Set(runtimeFleet(AgentPlatform.DOCKER).agents?.map((a) => a.name));
    const carriers = synth.resources("docker_container").filter((c) => agents.has(c.name) && (c.upload ?? []).some((u: Json) => u.file.endsWith(".cjs"))).map((c) => c.name);
    expect(carriers.sort()).toEqual(["hermes-agent", "hermes-support"]);
    const without = synthesize(new RapidClawStack(new App(), "agent-firewall", runtimeFleet(AgentPlatform.DOCKER, runtimeFleet(AgentPlatform.DOCKER).agents?.map(({ runtime: _, ...agent }) => agent))));
    console.info(`synthesized Docker JSON: ${without.json.length} bytes without runtimes, ${synth.json.length} with (2 Hermes, 1 OpenClaw agent)`);
  });
});

describe("agent runtimes on Kubernetes", () => {
  let spec: FirewallSpec;
  let synth: SynthesizedStack;
  beforeAll(() => void ({ spec, synth } = buildFleet(runtimeFleet(AgentPlatform.KUBERNETES))));

  it("mounts each runtime's configuration and files from ConfigMaps where its program reads them", () => {
    expectNativeMounts(spec, (name) => kubernetesAgent(synth, name));
  });

  it("holds the package's files once per runtime and each role's configuration in its own ConfigMap", () => {
    const names = synth.resources("kubernetes_config_map_v1").map((c) => c.metadata.name).sort();
    expect(names).toEqual(expect.arrayContaining([
      "rapidclaw-hermes-files", "rapidclaw-openclaw-files", "customer-support-agent-files-hermes", "research-agent-agent-files-hermes", "research-agent-agent-files-openclaw",
    ]));
    expect(names).not.toContain("customer-support-agent-files-openclaw");
    const bundleCopies = synth.resources("kubernetes_config_map_v1").filter((c) => Object.keys(c.data).some((key) => key.endsWith(".cjs")));
    expect(bundleCopies.map((c) => c.metadata.name)).toEqual(["rapidclaw-hermes-files"]);
  });

  it("mounts every runtime file read-only, gives Hermes a writable home under the read-only root, and rolls pods when a file changes", () => {
    const hermes = kubernetesAgent(synth, "hermes-agent");
    const mounts = hermes.pod.container[0].volume_mount as Json[];
    const home = hermes.env.get("HERMES_HOME") as string;
    expect(hermes.pod.container[0].security_context.read_only_root_filesystem).toBe(true);
    const homeMount = mounts.find((m) => m.mount_path === home) as Json;
    expect(hermes.pod.volume.find((v: Json) => v.name === homeMount.name).empty_dir).toBeDefined();
    expect(mounts.indexOf(homeMount)).toBeLessThan(mounts.findIndex((m) => m.mount_path === `${home}/config.yaml`));
    for (const mount of mounts.filter((m) => m.sub_path)) expect(mount.read_only, mount.mount_path).toBe(true);

    const checksum = (s: SynthesizedStack, name: string) =>
      (s.resources("kubernetes_deployment_v1").find((d) => d.metadata.name === name) as Json).spec.template.metadata.annotations["rapidclaw.dev/runtime-files-sha256"];
    expect(checksum(synth, "hermes-agent")).toMatch(/^[0-9a-f]{64}$/);
    const props = runtimeFleet(AgentPlatform.KUBERNETES);
    const changed = buildFleet({ ...props, roles: { ...props.roles, research_agent: { ...props.roles.research_agent, tools: { ...props.roles.research_agent.tools, web_fetch: ToolAccess.DENY } } } }).synth;
    expect(checksum(changed, "hermes-agent")).not.toBe(checksum(synth, "hermes-agent"));
    expect(checksum(changed, "hermes-support")).toBe(checksum(synth, "hermes-support"));
  });
});

describe("agent runtime validation", () => {
  it("refuses a runtime without a tool gateway, naming the fix", () => {
    const { gateway: _, ...props } = runtimeFleet(AgentPlatform.DOCKER);
    const problems = failureOf(() => new RapidClawStack(new App(), "x", props)).problems;
    expect(problems.filter((p) => p.path.endsWith(".runtime")).map((p) => p.path)).toEqual(["agents[0].runtime", "agents[1].runtime", "agents[2].runtime"]);
    expect(problems[0].message).toMatch(/gateway: \{\}/);
  });

  it("refuses variables the runtime's configuration hangs on, HERMES_SAFE_MODE above all, and unknown runtimes", () => {
    const props = runtimeFleet(AgentPlatform.DOCKER, [
      { name: "oc-agent", image: "openclaw/agent:1", role: "research_agent", runtime: AgentRuntime.OPENCLAW, env: { OPENCLAW_CONFIG_PATH: "/x.json", HERMES_HOME: "/h" } },
      { name: "hermes-x", image: "hermes/agent:1", role: "research_agent", runtime: AgentRuntime.HERMES, env: { HERMES_SAFE_MODE: "1" } },
      { name: "claude-x", image: "claude/agent:1", role: "research_agent", runtime: "claude" as AgentRuntime },
    ]);
    const problems = failureOf(() => new RapidClawStack(new App(), "x", props)).problems;
    expect(problems.map((p) => p.path).sort()).toEqual(["agents[0].env.OPENCLAW_CONFIG_PATH", "agents[1].env.HERMES_SAFE_MODE", "agents[2].runtime"]);
    expect(problems.find((p) => p.path === "agents[2].runtime")?.message).toMatch(/"openclaw", "hermes"/);
  });
});
