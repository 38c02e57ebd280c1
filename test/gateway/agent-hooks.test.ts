import { spawn } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import type { CliIo } from "../../src/cli/cli-io";
import { runHermesHook } from "../../src/cli/hook-command";
import { FirewallSpec } from "../../src/plan/firewall-spec";
import { HermesConfig } from "../../src/render/hermes-config";
import { OPENCLAW_PLUGIN_ID, OpenClawConfig } from "../../src/render/openclaw-config";
import { gatewayScenario } from "./fixture";
import { ROLE_ADDRESSES, startGatewayEnvironment, stopGatewayEnvironment, type TestGateway } from "./support/harness";
import { freePort } from "./support/net";
import { missingRedis, TestRedis } from "./support/redis";
import type { TestUpstream } from "./support/upstream";

const ROOT = join(__dirname, "..", "..");
const skip = skipLoudly("agent hooks against a real gateway and Redis", missingRedis());

/** What Hermes sends a pre_tool_call hook on stdin. */
const hermesCall = (tool: string) =>
  JSON.stringify({ hook_event_name: "pre_tool_call", tool_name: tool, tool_input: { query: "x" }, session_id: "s1", cwd: "/tmp", profile: "default", extra: { task_id: "t1" } });

/** Runs the hook command the way Hermes does (split into words, no shell) with `input` on stdin. */
function runHook(command: string, input: string, gatewayUrl: string | undefined): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [, , , ...args] = command.split(" "); // "rapidclaw hook hermes ..." runs from the sources here
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "src", "cli", "main.ts"), "hook", "hermes", ...args], {
    cwd: ROOT,
    env: { ...process.env, RAPIDCLAW_GATEWAY_URL: gatewayUrl },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.end(input);
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}

type BeforeToolCall = (event: { toolName: string; params: unknown; runId?: string }, ctx: { agentId: string; runId?: string }) => Promise<{ block: true; blockReason: string } | undefined>;
type RunHook = (event: Record<string, unknown>, ctx: { runId?: string }) => Promise<unknown>;

/** Registers the shipped plugin with `config` as OpenClaw would, and returns its handlers by hook name. */
async function pluginHandlers(config: Record<string, unknown>): Promise<Map<string, BeforeToolCall | RunHook>> {
  const plugin = (await import(join(ROOT, "openclaw-plugin", "index.js"))).default;
  expect(plugin.id).toBe(OPENCLAW_PLUGIN_ID);
  const handlers = new Map<string, BeforeToolCall | RunHook>();
  plugin.register({ pluginConfig: config, on: (name: string, handler: BeforeToolCall) => handlers.set(name, handler) });
  return handlers;
}

/** The plugin's before_tool_call handler. */
async function pluginHandler(config: Record<string, unknown>): Promise<BeforeToolCall> {
  return (await pluginHandlers(config)).get("before_tool_call") as BeforeToolCall;
}

describe.skipIf(skip)("agent hooks against the real gateway", () => {
  let redis: TestRedis;
  let upstream: TestUpstream;
  let gw: TestGateway;
  /** A server that accepts connections and never answers. */
  let silent: Server;
  const held: Socket[] = [];
  let silentPort: number;
  let closedPort: number;
  const spec = gatewayScenario();
  const firewall = FirewallSpec.fromProps(spec);
  /** The research role's listener: web_search, database and knowledge_base at READ. */
  const research = () => `http://${ROLE_ADDRESSES.research_agent.listener}:${gw.rolePort}`;
  /** The customer support role's listener: web_search is DENY there. */
  const support = () => `http://${ROLE_ADDRESSES.customer_support.listener}:${gw.rolePort}`;
  const hookCommand = () => (parse(HermesConfig.forRole(firewall, "research_agent").toYaml()).hooks.pre_tool_call[0].command as string);
  const pluginConfig = (gatewayUrl: string, timeoutMs?: number) => ({
    ...OpenClawConfig.forRole(firewall, "research_agent", { gatewayUrl }).document.plugins.entries[OPENCLAW_PLUGIN_ID].config,
    ...(timeoutMs !== undefined && { timeoutMs }),
  });

  beforeAll(async () => {
    ({ redis, upstream, gw } = await startGatewayEnvironment(spec));
    silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    silentPort = (silent.address() as { port: number }).port;
    closedPort = await freePort();
  });

  afterAll(async () => {
    held.forEach((s) => s.destroy());
    await new Promise((resolve) => silent?.close(resolve));
    await stopGatewayEnvironment({ gw, upstream, redis });
  });

  it("renders the research role's hook with its one Hermes tool", () => {
    expect(hookCommand()).toBe("rapidclaw hook hermes --timeout-ms 9500 --tool web_search=web_search:READ");
  });

  it("Hermes hook as rendered for a 1 s hook timeout: gives up on a silent gateway within it and blocks", async () => {
    const command = parse(HermesConfig.forRole(firewall, "research_agent", { hookTimeoutSec: 1 }).toYaml()).hooks.pre_tool_call[0].command as string;
    const run = await runHook(command, hermesCall("web_search"), `http://127.0.0.1:${silentPort}`);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({ action: "block", message: expect.stringContaining("no answer in 500 ms") });
  });

  it("Hermes hook: allowed when the gateway allows, exit 2 with a block message when it refuses", async () => {
    const allowed = await runHook(hookCommand(), hermesCall("web_search"), research());
    expect(allowed).toMatchObject({ code: 0, stdout: "" });
    expect(gw.events.some((e) => e.event_type === "permission_denied")).toBe(false);

    // The same command from an address of the support role: the gateway refuses by network identity.
    const refused = await runHook(hookCommand(), hermesCall("web_search"), support());
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout)).toEqual({ action: "block", message: expect.stringContaining("the tool gateway refused READ on web_search") });
    expect(gw.events.some((e) => e.event_type === "permission_denied" && e.tool === "web_search" && e.agent_role === "customer_support")).toBe(true);
  });

  it("Hermes hook: exit 2 when the gateway is down and on garbage stdin", async () => {
    const [down, garbage] = await Promise.all([
      runHook(hookCommand(), hermesCall("web_search"), `http://127.0.0.1:${closedPort}`),
      runHook(hookCommand(), "not json {", research()),
    ]);
    expect(down.code).toBe(2);
    expect(JSON.parse(down.stdout)).toEqual({ action: "block", message: expect.stringMatching(/could not be asked about web_search/) });
    expect(garbage.code).toBe(2);
    expect(JSON.parse(garbage.stdout)).toEqual({ action: "block", message: expect.stringMatching(/not JSON/) });
  });

  it("Hermes hook (in process, the command's own function): exit 2 for every input that is not an allowed call of the role's tools", async () => {
    const cases: [string, string, string | undefined, RegExp][] = [
      ["no RAPIDCLAW_GATEWAY_URL", hermesCall("web_search"), undefined, /RAPIDCLAW_GATEWAY_URL is not set/],
      ["empty stdin", "", research(), /not JSON/],
      ["a JSON list", "[]", research(), /not a pre_tool_call/],
      ["another event", JSON.stringify({ hook_event_name: "post_tool_call", tool_name: "web_search" }), research(), /not a pre_tool_call/],
      ["a tool outside the role", hermesCall("terminal"), research(), /"terminal" is not a tool of this role/],
    ];
    for (const [what, input, url, message] of cases) {
      const out: string[] = [];
      let code: number | undefined;
      const io: CliIo = { stdin: Readable.from([Buffer.from(input)]), out: (t) => void out.push(t), err: () => undefined, exit: (c) => void (code = c) };
      await runHermesHook(["web_search=web_search:READ"], "5000", { RAPIDCLAW_GATEWAY_URL: url }, io);
      expect(code, what).toBe(2);
      expect(JSON.parse(out.join("")), what).toEqual({ action: "block", message: expect.stringMatching(message) });
    }
  });

  it("Hermes hook: exit 2 on a gateway that never answers, and on bad arguments", async () => {
    const [silentRun, unknownOption, badTool] = await Promise.all([
      runHook(`${hookCommand()} --timeout-ms 300`, hermesCall("web_search"), `http://127.0.0.1:${silentPort}`),
      runHook("rapidclaw hook hermes --bogus", hermesCall("web_search"), research()),
      runHook("rapidclaw hook hermes --tool web_search=web_search:ROOT", hermesCall("web_search"), research()),
    ]);
    expect(silentRun.code).toBe(2);
    expect(JSON.parse(silentRun.stdout).message).toMatch(/no answer in 300 ms/);
    expect(unknownOption.code).toBe(2);
    expect(badTool.code).toBe(2);
    expect(JSON.parse(badTool.stdout).message).toMatch(/bad --tool/);
  });

  it("OpenClaw plugin: lets an allowed call through and blocks a refused one", async () => {
    expect(await (await pluginHandler(pluginConfig(research())))({ toolName: "web_search", params: {} }, { agentId: "research_agent" })).toBeUndefined();
    const refused = await (await pluginHandler(pluginConfig(support())))({ toolName: "web_search", params: {} }, { agentId: "research_agent" });
    expect(refused).toEqual({ block: true, blockReason: expect.stringContaining("the tool gateway refused READ on web_search") });
    // Without gatewayUrl in its config, the plugin asks RAPIDCLAW_GATEWAY_URL.
    const { gatewayUrl: _, ...withoutUrl } = pluginConfig(research());
    const saved = process.env.RAPIDCLAW_GATEWAY_URL;
    try {
      process.env.RAPIDCLAW_GATEWAY_URL = support();
      expect((await (await pluginHandler(withoutUrl))({ toolName: "web_search", params: {} }, { agentId: "a" }))?.blockReason).toContain("refused READ on web_search");
      process.env.RAPIDCLAW_GATEWAY_URL = research();
      expect(await (await pluginHandler(withoutUrl))({ toolName: "web_search", params: {} }, { agentId: "a" })).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.RAPIDCLAW_GATEWAY_URL;
      else process.env.RAPIDCLAW_GATEWAY_URL = saved;
    }
  });

  it("OpenClaw plugin: blocks when the gateway is down or silent, and tools outside the role", async () => {
    const down = await (await pluginHandler(pluginConfig(`http://127.0.0.1:${closedPort}`)))({ toolName: "web_search", params: {} }, { agentId: "a" });
    expect(down).toEqual({ block: true, blockReason: expect.stringContaining("could not be asked about web_search") });
    const silentAnswer = await (await pluginHandler(pluginConfig(`http://127.0.0.1:${silentPort}`, 300)))({ toolName: "web_search", params: {} }, { agentId: "a" });
    expect(silentAnswer).toEqual({ block: true, blockReason: expect.stringContaining("no answer in 300 ms") });
    const outside = await (await pluginHandler(pluginConfig(research())))({ toolName: "exec", params: {} }, { agentId: "a" });
    expect(outside).toEqual({ block: true, blockReason: 'Rapid Claw: "exec" is not a tool of this role' });
    const inherited = await (await pluginHandler(pluginConfig(research())))({ toolName: "constructor", params: {} }, { agentId: "a" });
    expect(inherited?.block).toBe(true);
  });

  it("Hermes hooks as rendered for a role with task limits: checks carry the run's task_id, past maxConcurrentTasks runs are blocked, on_session_end frees a slot", async () => {
    await redis.cli("FLUSHALL");
    const config = parse(HermesConfig.forRole(firewall, "research_agent").toYaml());
    expect(config.hooks.on_session_end).toEqual([{ command: "rapidclaw hook hermes --timeout-ms 9500", timeout: 10 }]);
    const concurrent = spec.roles.research_agent.limits?.maxConcurrentTasks as number;
    const inProcess = async (input: string) => {
      const out: string[] = [];
      let code: number | undefined;
      await runHermesHook(["web_search=web_search:READ"], "5000", { RAPIDCLAW_GATEWAY_URL: research() }, { stdin: Readable.from([Buffer.from(input)]), out: (t) => void out.push(t), err: () => undefined, exit: (c) => void (code = c) });
      return { code, out: out.join("") };
    };
    const call = (task: string) => JSON.stringify({ hook_event_name: "pre_tool_call", tool_name: "web_search", tool_input: {}, session_id: "s", cwd: "/", extra: { task_id: task, turn_id: "u" } });
    for (let i = 0; i < concurrent; i++) expect(await inProcess(call(`run-${i}`))).toEqual({ code: 0, out: "" });
    expect(await redis.cli("HGET", `tk:{research_agent}:task:run-0`, "calls")).toBe("1\n");
    const blocked = await inProcess(call("run-late"));
    expect(blocked.code).toBe(2);
    expect(JSON.parse(blocked.out).message).toMatch(/research_agent has \d+ tasks open/);
    // Hermes runs the rendered on_session_end command at the end of run-0 (with its task_id in extra).
    const ended = await runHook(config.hooks.on_session_end[0].command as string, JSON.stringify({ hook_event_name: "on_session_end", tool_name: null, tool_input: null, session_id: "s", cwd: "/", extra: { task_id: "run-0", completed: true } }), research());
    expect(ended).toMatchObject({ code: 0, stdout: "" });
    expect(await inProcess(call("run-late"))).toEqual({ code: 0, out: "" });
    // A gateway that cannot be reached at the end: the run is over, the hook says why on stderr and exits 0.
    const lost = await runHook(config.hooks.on_session_end[0].command as string, JSON.stringify({ hook_event_name: "on_session_end", extra: { task_id: "run-1" } }), `http://127.0.0.1:${closedPort}`);
    expect(lost.code).toBe(0);
    expect(lost.stderr).toMatch(/task not ended/);
    await redis.cli("FLUSHALL");
  });

  it("OpenClaw plugin as rendered for a role with task limits: a run is a task, opened by before_agent_run (blocked past maxConcurrentTasks), ended by agent_end", async () => {
    await redis.cli("FLUSHALL");
    const entry = OpenClawConfig.forRole(firewall, "research_agent", { gatewayUrl: research() }).document.plugins.entries[OPENCLAW_PLUGIN_ID];
    expect(entry.hooks).toEqual({ allowConversationAccess: true });
    const handlers = await pluginHandlers(entry.config);
    expect([...handlers.keys()].sort()).toEqual(["agent_end", "before_agent_run", "before_tool_call"]);
    const start = handlers.get("before_agent_run") as RunHook;
    const end = handlers.get("agent_end") as RunHook;
    const tool = handlers.get("before_tool_call") as BeforeToolCall;
    const concurrent = spec.roles.research_agent.limits?.maxConcurrentTasks as number;
    for (let i = 0; i < concurrent; i++) expect(await start({ prompt: "p", messages: [] }, { runId: `oc-${i}` })).toEqual({ outcome: "pass" });
    expect(await start({ prompt: "p", messages: [] }, { runId: "oc-late" })).toEqual({ outcome: "block", reason: expect.stringMatching(/refused to start this run: .*tasks open/), message: expect.stringMatching(/^Rapid Claw: /) });
    expect(await tool({ toolName: "web_search", params: {}, runId: "oc-0" }, { agentId: "a", runId: "oc-0" })).toBeUndefined();
    expect(await redis.cli("HGET", `tk:{research_agent}:task:oc-0`, "calls")).toBe("1\n");
    await end({ messages: [], success: true, runId: "oc-0" }, { runId: "oc-0" });
    expect(await start({ prompt: "p", messages: [] }, { runId: "oc-late" })).toEqual({ outcome: "pass" });
    // A gateway that cannot be asked blocks the run (fail closed); a role without task limits registers no run hooks.
    expect(await ((await pluginHandlers({ ...entry.config, gatewayUrl: `http://127.0.0.1:${closedPort}` })).get("before_agent_run") as RunHook)({}, { runId: "oc-x" })).toMatchObject({ outcome: "block" });
    expect([...(await pluginHandlers({ ...entry.config, tasks: undefined })).keys()]).toEqual(["before_tool_call"]);
    await redis.cli("FLUSHALL");
  });

  it("OpenClaw plugin: passes OpenClaw's tool-search controls and checks the tool a tool_call runs, under its own name", async () => {
    // OpenClaw asks before_tool_call for the tool_call wrapper, then again for the tool it runs.
    const handler = await pluginHandler(pluginConfig(`http://127.0.0.1:${closedPort}`));
    for (const control of ["tool_search", "tool_describe", "tool_call"]) {
      expect(await handler({ toolName: control, params: { id: "exec", args: {} } }, { agentId: "a" }), control).toBeUndefined();
    }
    expect((await handler({ toolName: "exec", params: {} }, { agentId: "a" }))?.block).toBe(true);
    expect((await (await pluginHandler(pluginConfig(support())))({ toolName: "web_search", params: {} }, { agentId: "a" }))?.block).toBe(true);
  });
});
