import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { AgentPlatform, ToolAccess, type FirewallSpecProps } from "../src/model/types";
import { FirewallSpec } from "../src/plan/firewall-spec";
import { HermesConfig } from "../src/render/hermes-config";
import { OPENCLAW_PLUGIN_ID, OpenClawConfig } from "../src/render/openclaw-config";
import { failureOf } from "./support/spec-error";
import { hermesFragment, openClawFragment } from "./support/native-agent-schemas";

const ROOT = join(__dirname, "..");
const GATEWAY = "http://172.30.16.3:8080";

/** The plugin's configSchema (the JSON Schema subset it uses) applied to a value: the problems found. */
function jsonSchemaProblems(schema: Record<string, any>, value: unknown, at = "$"): string[] {
  if (schema.enum) return schema.enum.includes(value) ? [] : [`${at}: not one of ${schema.enum.join(", ")}`];
  if (schema.type === "string") return typeof value === "string" ? [] : [`${at}: not a string`];
  if (schema.type === "integer") return Number.isInteger(value) ? [] : [`${at}: not an integer`];
  if (schema.type === "boolean") return typeof value === "boolean" ? [] : [`${at}: not a boolean`];
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${at}: not an object`];
  const record = value as Record<string, unknown>;
  const missing = (schema.required ?? []).filter((key: string) => !(key in record)).map((key: string) => `${at}.${key}: missing`);
  return [
    ...missing,
    ...Object.entries(record).flatMap(([key, inner]) => {
      const property = schema.properties?.[key] ?? schema.additionalProperties;
      return property === false || property === undefined ? [`${at}.${key}: not allowed`] : jsonSchemaProblems(property, inner, `${at}.${key}`);
    }),
  ];
}

/** The seed with a `browse` tool mapped to a reading and an executing tool of each agent, and model tools (one only READ). */
function mappedFleet(browseAccess: ToolAccess): FirewallSpec {
  const seed = firewallScenario(AgentPlatform.DOCKER);
  return FirewallSpec.fromProps({
    ...seed,
    modelHosts: ["api.mistral.ai"], // both model APIs are fronted by the gateway, so neither is a model host
    tools: {
      ...seed.tools,
      anthropic: { upstream: "https://api.anthropic.com" },
      openai: { upstream: "https://api.openai.com/v1" },
      browse: { agentTools: { openclaw: ["web_fetch", "exec"], hermes: ["web_extract", "terminal"] } },
    },
    roles: {
      ...seed.roles,
      research_agent: { ...seed.roles.research_agent, tools: { ...seed.roles.research_agent.tools, browse: browseAccess, anthropic: ToolAccess.WRITE, openai: ToolAccess.READ } },
    },
  });
}

const openClaw = (spec: FirewallSpec, role: string, options: Partial<Parameters<typeof OpenClawConfig.forRole>[2]> = {}) => {
  const json = OpenClawConfig.forRole(spec, role, { gatewayUrl: GATEWAY, ...options }).toJson();
  return openClawFragment.parse(JSON.parse(json));
};
// Hermes reads YAML 1.1 (PyYAML); what a 1.1 reader gets must be what we meant.
const hermes = (spec: FirewallSpec, role: string, options: Parameters<typeof HermesConfig.forRole>[2] = {}) =>
  hermesFragment.parse(parse(HermesConfig.forRole(spec, role, options).toYaml(), { version: "1.1" }));

describe("OpenClaw fragment", () => {
  it("allows the agent tools whose access the role holds and denies the other mapped ones by name", () => {
    const read = openClaw(mappedFleet(ToolAccess.READ), "research_agent").agents.entries.research_agent.tools;
    expect(read).toEqual({ allow: ["web_fetch", "web_search"], deny: ["exec"] });
    const execute = openClaw(mappedFleet(ToolAccess.EXECUTE), "research_agent").agents.entries.research_agent.tools;
    expect(execute).toEqual({ allow: ["exec", "web_fetch", "web_search"], deny: [] });
  });

  it("denies everything to a role with no mapped tool, rather than an empty allow list", () => {
    expect(openClaw(mappedFleet(ToolAccess.READ), "customer_support").agents.entries.customer_support.tools).toEqual({ deny: ["*"] });
  });

  it("loads the plugin and gives it the role's tools with the access each needs, fitting the plugin's own configSchema", () => {
    const fragment = openClaw(mappedFleet(ToolAccess.READ), "research_agent", { agentId: "researcher", pluginPath: "/plugins/rc" });
    expect(Object.keys(fragment.agents.entries)).toEqual(["researcher"]);
    expect(fragment.plugins.allow).toEqual([OPENCLAW_PLUGIN_ID]);
    expect(fragment.plugins.load.paths).toEqual(["/plugins/rc"]);
    const config = fragment.plugins.entries[OPENCLAW_PLUGIN_ID].config;
    expect(config).toEqual({
      gatewayUrl: GATEWAY,
      tasks: true,
      tools: { web_fetch: { tool: "browse", access: "READ" }, web_search: { tool: "web_search", access: "READ" } },
    });
    const manifest = JSON.parse(readFileSync(join(ROOT, "openclaw-plugin", "openclaw.plugin.json"), "utf8"));
    expect(manifest.id).toBe(OPENCLAW_PLUGIN_ID);
    expect(jsonSchemaProblems(manifest.configSchema, config)).toEqual([]);
    expect(jsonSchemaProblems(manifest.configSchema, { ...config, tools: { exec: { tool: "browse", access: "ROOT" } } })).toEqual(["$.tools.exec.access: not one of READ, WRITE, EXECUTE"]);
  });

  it("makes each run a task at the gateway for a role with task limits (and lets the plugin's run hooks register), and not otherwise", () => {
    const limited = openClaw(mappedFleet(ToolAccess.READ), "research_agent").plugins.entries[OPENCLAW_PLUGIN_ID];
    expect(limited.hooks).toEqual({ allowConversationAccess: true });
    expect(limited.config.tasks).toBe(true);
    const seed = firewallScenario(AgentPlatform.DOCKER);
    const unlimited = FirewallSpec.fromProps({ ...seed, roles: { ...seed.roles, research_agent: { ...seed.roles.research_agent, limits: undefined } } });
    const entry = openClaw(unlimited, "research_agent").plugins.entries[OPENCLAW_PLUGIN_ID];
    expect(entry.hooks).toBeUndefined();
    expect(entry.config).not.toHaveProperty("tasks");
    // One task id rule: the plugin's own copy is the gateway's.
    const pluginSource = readFileSync(join(ROOT, "openclaw-plugin", "index.js"), "utf8");
    expect(pluginSource).toContain(`const TASK_ID = ${String(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/)};`);
    expect(readFileSync(join(ROOT, "src", "gateway", "task-limits.ts"), "utf8")).toContain(`const TASK_ID = ${String(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/)};`);
  });

  it("points model providers at the role's gateway, and ships the plugin in the package", () => {
    const fragment = openClaw(mappedFleet(ToolAccess.READ), "research_agent", { gatewayUrl: `${GATEWAY}/`, modelProviders: { anthropic: "anthropic" } });
    expect(fragment.models).toEqual({ providers: { anthropic: { baseUrl: `${GATEWAY}/tools/anthropic`, api: "anthropic-messages" } } });
    const packageJson = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(packageJson.files).toContain("openclaw-plugin");
    expect(JSON.parse(readFileSync(join(ROOT, "openclaw-plugin", "package.json"), "utf8")).openclaw.extensions).toEqual(["./index.js"]);
  });

  it("derives the model providers from the fronted model tools the role may POST to", () => {
    // anthropic (WRITE) fronts OpenClaw's anthropic provider; openai is only READ: no model calls through it.
    expect(openClaw(mappedFleet(ToolAccess.READ), "research_agent").models).toEqual({ providers: { anthropic: { baseUrl: `${GATEWAY}/tools/anthropic`, api: "anthropic-messages" } } });
    expect(openClaw(mappedFleet(ToolAccess.READ), "customer_support").models).toBeUndefined();
    expect(openClaw(mappedFleet(ToolAccess.READ), "research_agent", { modelProviders: {} }).models).toBeUndefined();
    // An upstream above the provider's base keeps the rest of the path; one below it (or another API) fronts no provider.
    const seed = firewallScenario(AgentPlatform.DOCKER);
    // The fronted APIs are no model hosts: a host the gateway fronts is refused there.
    const spec = FirewallSpec.fromProps({
      ...seed,
      modelHosts: ["model.example.com"],
      tools: { ...seed.tools, a_openai: { upstream: "https://api.openai.com/" }, b_openai: { upstream: "https://api.openai.com/v1" }, news: { upstream: "https://api.anthropic.com/news" }, other: { upstream: "https://api.openai.community/v1" } },
      roles: { ...seed.roles, research_agent: { ...seed.roles.research_agent, tools: { ...seed.roles.research_agent.tools, a_openai: ToolAccess.WRITE, b_openai: ToolAccess.EXECUTE, news: ToolAccess.WRITE, other: ToolAccess.WRITE } } },
    });
    expect(openClaw(spec, "research_agent").models).toEqual({ providers: { openai: { baseUrl: `${GATEWAY}/tools/a_openai/v1`, api: "openai-responses" } } });
    // A key the gateway holds: OpenClaw gets a stand-in, which the gateway replaces (it calls no model without a key).
    const held = FirewallSpec.fromProps({ ...seed, modelHosts: ["model.example.com"], tools: { ...seed.tools, anthropic: { upstream: "https://api.anthropic.com", key: {}, keyHeader: { name: "x-api-key" } } }, roles: { ...seed.roles, research_agent: { ...seed.roles.research_agent, tools: { ...seed.roles.research_agent.tools, anthropic: ToolAccess.WRITE } } } });
    expect(openClaw(held, "research_agent").models).toEqual({ providers: { anthropic: { baseUrl: `${GATEWAY}/tools/anthropic`, api: "anthropic-messages", apiKey: OpenClawConfig.GATEWAY_KEY_PLACEHOLDER } } });
    expect(OpenClawConfig.PROVIDER_BASE_URLS).toEqual({ anthropic: "https://api.anthropic.com", openai: "https://api.openai.com/v1" });
  });

  it("reports every bad option at once, each with its path and fix", () => {
    const spec = mappedFleet(ToolAccess.READ);
    const error = failureOf(() => OpenClawConfig.forRole(spec, "research_agent", {
      gatewayUrl: "gateway:8080/x",
      agentId: "no spaces please",
      pluginPath: "relative/dir",
      modelProviders: { anthropic: "antropic", openai: "openai", other: "knowledge_base" },
    }));
    const byPath = Object.fromEntries(error.problems.map((p) => [p.path, p.message]));
    expect(Object.keys(byPath).sort()).toEqual(["agentId", "gatewayUrl", "modelProviders.anthropic", "modelProviders.openai", "modelProviders.other", "pluginPath"]);
    expect(byPath["modelProviders.anthropic"]).toContain('did you mean "anthropic"');
    expect(byPath["modelProviders.openai"]).toContain("model calls are POSTs, which need WRITE");
    expect(byPath["modelProviders.other"]).toContain("has no upstream");
    expect(failureOf(() => OpenClawConfig.forRole(spec, "research_agnt", { gatewayUrl: GATEWAY })).message).toContain('did you mean "research_agent"');
  });
});

describe("Hermes Agent fragment", () => {
  it("enables the fewest core toolsets holding the role's tools and hooks every call with fail_closed", () => {
    const read = hermes(mappedFleet(ToolAccess.READ), "research_agent");
    expect(read.toolsets).toEqual(["web"]);
    expect(read.platform_toolsets.cli).toEqual(["web"]);
    const [hook] = read.hooks.pre_tool_call;
    expect(hook).toEqual({ matcher: ".*", command: "rapidclaw hook hermes --timeout-ms 9500 --tool web_extract=browse:READ --tool web_search=web_search:READ", timeout: 10, fail_closed: true });
    expect(hermes(mappedFleet(ToolAccess.EXECUTE), "research_agent").toolsets).toEqual(["terminal", "web"]);
    expect(hermes(firewallScenarioSpec(), "research_agent").toolsets).toEqual(["search"]);
  });

  it("has a matcher that fully matches every tool name, as Python's fullmatch would", () => {
    const { matcher } = hermes(mappedFleet(ToolAccess.READ), "research_agent").hooks.pre_tool_call[0];
    const full = new RegExp(`^(?:${matcher})$`);
    for (const tool of ["terminal", "web_extract", "browser_navigate", "mcp_github_create_issue"]) expect(full.test(tool)).toBe(true);
  });

  it("points the model at the gateway, takes a mounted hook path, and never claims proxy.extra_allowed_hosts", () => {
    const fragment = hermes(mappedFleet(ToolAccess.READ), "research_agent", { gatewayUrl: GATEWAY, modelTool: "anthropic", hookCommand: "/opt/rapidclaw/bin/rapidclaw hook hermes", hookTimeoutSec: 30 });
    expect(fragment.model).toEqual({ provider: "custom", base_url: `${GATEWAY}/tools/anthropic` });
    expect(fragment.hooks.pre_tool_call[0].command.startsWith("/opt/rapidclaw/bin/rapidclaw hook hermes --timeout-ms 29500 --tool ")).toBe(true);
    expect(fragment.hooks.pre_tool_call[0].timeout).toBe(30);
    expect(HermesConfig.forRole(mappedFleet(ToolAccess.READ), "research_agent").toYaml()).not.toMatch(/proxy|extra_allowed_hosts/);
  });

  it("derives the model base URL from a fronted OpenAI-compatible tool the role may POST to", () => {
    // mappedFleet's openai tool is only READ: no model section.
    expect(hermes(mappedFleet(ToolAccess.READ), "research_agent", { gatewayUrl: GATEWAY }).model).toBeUndefined();
    const seed = firewallScenario(AgentPlatform.DOCKER);
    const spec = (upstream: string) => FirewallSpec.fromProps({
      ...seed,
      modelHosts: ["model.example.com"],
      tools: { ...seed.tools, llm: { upstream }, other: { upstream: "https://api.anthropic.com" } },
      roles: { ...seed.roles, research_agent: { ...seed.roles.research_agent, tools: { ...seed.roles.research_agent.tools, llm: ToolAccess.WRITE, other: ToolAccess.WRITE } } },
    });
    expect(hermes(spec("https://api.openai.com"), "research_agent", { gatewayUrl: GATEWAY }).model).toEqual({ provider: "custom", base_url: `${GATEWAY}/tools/llm/v1` });
    expect(hermes(spec("https://api.openai.com/v1/"), "research_agent", { gatewayUrl: GATEWAY }).model).toEqual({ provider: "custom", base_url: `${GATEWAY}/tools/llm` });
    expect(hermes(spec("https://api.openai.com/v1/"), "research_agent").model).toBeUndefined();
    expect(hermes(spec("https://api.openai.com/v2"), "research_agent", { gatewayUrl: GATEWAY }).model).toBeUndefined();
    expect(HermesConfig.MODEL_API_BASE_URL).toBe("https://api.openai.com/v1");
  });

  it("ends each run's task with an on_session_end hook for a role with task limits, and has none otherwise", () => {
    expect(hermes(mappedFleet(ToolAccess.READ), "research_agent", { hookCommand: "/opt/rapidclaw/bin/rapidclaw hook hermes", hookTimeoutSec: 5 }).hooks.on_session_end).toEqual([{ command: "/opt/rapidclaw/bin/rapidclaw hook hermes --timeout-ms 4500", timeout: 5 }]);
    const seed = firewallScenario(AgentPlatform.DOCKER);
    const unlimited = FirewallSpec.fromProps({ ...seed, roles: { ...seed.roles, research_agent: { ...seed.roles.research_agent, limits: undefined } } });
    expect(hermes(unlimited, "research_agent").hooks).not.toHaveProperty("on_session_end");
  });

  it("gives a role with no mapped tool no toolset, and a hook that blocks whatever Hermes still calls", () => {
    const fragment = hermes(mappedFleet(ToolAccess.READ), "customer_support");
    expect(fragment.toolsets).toEqual([]);
    expect(fragment.hooks.pre_tool_call[0].command).toBe("rapidclaw hook hermes --timeout-ms 9500");
  });

  it("gives the hook a timeout below Hermes' own, so the hook blocks before Hermes would kill it (and let the call through)", () => {
    for (const hookTimeoutSec of [1, 2, 3, 4, 10, 300]) {
      const [hook] = hermes(mappedFleet(ToolAccess.READ), "research_agent", { hookTimeoutSec }).hooks.pre_tool_call;
      const hookMs = Number(/ --timeout-ms (\d+) /.exec(hook.command)?.[1]);
      expect(hook.timeout).toBe(hookTimeoutSec);
      expect(hookMs).toBe(hookTimeoutSec * 1000 - 500);
    }
  });

  it("reports every bad option at once", () => {
    const error = failureOf(() => HermesConfig.forRole(mappedFleet(ToolAccess.READ), "customer_support", { modelTool: "anthropic", hookCommand: "rapidclaw  'hook'", hookTimeoutSec: 600 }));
    const byPath = Object.fromEntries(error.problems.map((p) => [p.path, p.message]));
    expect(Object.keys(byPath).sort()).toEqual(["gatewayUrl", "hookCommand", "hookTimeoutSec", "modelTool"]);
    expect(byPath.modelTool).toContain("grant roles.customer_support.tools.anthropic WRITE");
  });

  it("renders the same text for the same input", () => {
    expect(HermesConfig.forRole(mappedFleet(ToolAccess.WRITE), "research_agent").toYaml()).toBe(HermesConfig.forRole(mappedFleet(ToolAccess.WRITE), "research_agent").toYaml());
    expect(OpenClawConfig.forRole(mappedFleet(ToolAccess.WRITE), "research_agent", { gatewayUrl: GATEWAY }).toJson()).toBe(OpenClawConfig.forRole(mappedFleet(ToolAccess.WRITE), "research_agent", { gatewayUrl: GATEWAY }).toJson());
  });
});

function firewallScenarioSpec(): FirewallSpec {
  return FirewallSpec.fromProps(firewallScenario(AgentPlatform.DOCKER));
}

describe("agentTools validation", () => {
  const withTools = (tools: FirewallSpecProps["tools"]) => () => FirewallSpec.fromProps({ ...firewallScenario(AgentPlatform.DOCKER), tools: { ...firewallScenario(AgentPlatform.DOCKER).tools, ...tools } });

  it("names each bad agent tool by its path with a fix", () => {
    const error = failureOf(withTools({
      browse: { agentTools: { openclaw: ["group:web", "web_*", "Web_Fetch", "web_fetch", "web_fetch"], hermes: ["web_extrct", "web_extract"] } },
      fetch2: { agentTools: { hermes: ["web_extract"], openclaw: ["web_search"] } },
    }));
    const byPath = Object.fromEntries(error.problems.map((p) => [p.path, p.message]));
    expect(byPath["tools.browse.agentTools.openclaw[0]"]).toMatch(/is a group; list OpenClaw tool names one by one/);
    expect(byPath["tools.browse.agentTools.openclaw[1]"]).toMatch(/is a wildcard/);
    expect(byPath["tools.browse.agentTools.openclaw[2]"]).toMatch(/lower case/);
    expect(byPath["tools.browse.agentTools.openclaw[4]"]).toMatch(/listed twice/);
    expect(byPath["tools.browse.agentTools.hermes[0]"]).toMatch(/unknown Hermes Agent tool "web_extrct"; did you mean "web_extract"\?/);
    expect(byPath["tools.fetch2.agentTools.hermes[0]"]).toMatch(/already the name of tool "browse" at tools.browse.agentTools.hermes/);
    expect(byPath["tools.fetch2.agentTools.openclaw[0]"]).toMatch(/already the name of tool "web_search" by default \(set tools.web_search.agentTools.openclaw to \[\] to free it\)/);
    expect(error.problems).toHaveLength(7);
  });

  it("says where an explicit name was taken, also when a tool lists its own name", () => {
    const error = failureOf(withTools({ web_fetch: { agentTools: { openclaw: ["web_fetch"] } }, reader: { agentTools: { openclaw: ["web_fetch"] } } }));
    expect(error.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'tools.reader.agentTools.openclaw[0]: OpenClaw tool "web_fetch" is already the name of tool "web_fetch" at tools.web_fetch.agentTools.openclaw; an agent tool stands for one tool only',
    ]);
  });

  it("accepts a default given away with [] and a plugin tool id", () => {
    expect(() => withTools({
      web_search: { agentTools: { openclaw: [] } },
      search2: { agentTools: { openclaw: ["web_search", "brave-search_v2"] } },
    })()).not.toThrow();
  });
});
