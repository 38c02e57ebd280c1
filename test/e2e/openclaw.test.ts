/**
 * The real OpenClaw (the pinned npm package, on a Node 24 from npm) with the `openclaw.json` and
 * the plugin the stack mounts into an OpenClaw agent, at the paths it mounts them (a mount
 * namespace lays them over /opt), against the real gateway with a real redis-server. The model is a
 * scripted stand-in for the Anthropic API behind the gateway (support/model-stub.ts) that asks for
 * two tool calls in turn (web_search, then OpenClaw's `write`); what decides is OpenClaw, its
 * before_tool_call hook (the shipped plugin) and the gateway.
 *
 * What the test changes in the mounted config: the gateway's address (the stack's Docker address,
 * replaced by the test listener of a role); for two runs, the plugin's gateway address alone (for
 * one of them also without the run hooks a role with task limits gets); for one run, `write` offered
 * as a tool the role does not hold (as a config rendered from an older grant, or edited, would).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentPlatform, AgentRuntime, ToolAccess } from "../../src/model/types";
import { OPENCLAW_PLUGIN_ID, OpenClawConfig } from "../../src/render/openclaw-config";
import type { ROLE_ADDRESSES } from "../gateway/support/harness";
import { freePort } from "../gateway/support/net";
import { missingRedis } from "../gateway/support/redis";
import { fronted } from "../support/gateway-spec";
import { agentProgram, missingAgentPrograms } from "./support/agent-programs";
import { startModelGateway, type ModelGateway, type ModelRequest, type ModelTurn } from "./support/model-stub";
import { runtimeMountOf, runWithMounts, type AgentRun } from "./support/mounted-agent";
import { missingPrerequisites, skipLoudlyOrFailInCi } from "./support/prerequisites";

const SKIP = skipLoudlyOrFailInCi(
  "OpenClaw with the mounted config and plugin",
  [missingPrerequisites(["unshare", "mount"]), missingAgentPrograms(["node24", "openclaw"]), missingRedis()].filter(Boolean).join("; ") || undefined,
);

/** Both roles may call the model (so an agent in either network gets as far as a tool call); only research holds web_search, and database at READ only. */
const SPEC = fronted(AgentPlatform.DOCKER, (spec) => {
  spec.roles = { ...spec.roles, customer_support: { ...spec.roles.customer_support, tools: { ...spec.roles.customer_support.tools, anthropic: ToolAccess.WRITE } } };
  spec.agents = [{ name: "openclaw-agent", image: "openclaw/agent:2026.9.6", role: "research_agent", runtime: AgentRuntime.OPENCLAW }];
});

/** A run's prompt carries its marker, so the stub and the test tell the runs apart. */
const marker = (run: string) => `rapidclaw-run-${run}`;

describe.skipIf(SKIP)("OpenClaw with the mounted openclaw.json and plugin", () => {
  const { mount, gatewayUrl: mountedGatewayUrl } = runtimeMountOf(SPEC, "openclaw-agent");
  const work = mkdtempSync(join(tmpdir(), "rcopenclaw-"));
  /** The file OpenClaw's `write` would create, were it not blocked. */
  const notWritten = join(work, "written-by-openclaw.txt");
  let env: ModelGateway;

  /** Each run's tool calls in turn, through OpenClaw's tool_call (its tool search shows tools so); after the last one's result: done. */
  const calls: ModelTurn[] = [
    { tool: "tool_call", args: { id: "web_search", args: { query: "rapid claw" } } },
    { tool: "tool_call", args: { id: "write", args: { path: notWritten, content: "should never be written" } } },
  ];

  beforeAll(async () => {
    env = await startModelGateway(SPEC, ["api.anthropic.com"], "anthropic", (request: ModelRequest) => calls[toolResultsIn(request).length] ?? { text: "done" });
  });

  afterAll(async () => {
    await env?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** Runs `openclaw <args>` as the agent's container would: the mounted files at their paths, its variables, no provider key anywhere. */
  function openclaw(run: string, config: string, args: string[]): Promise<AgentRun> {
    const dir = join(work, run);
    mkdirSync(join(dir, "home"), { recursive: true });
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: join(dir, "home"), ...Object.fromEntries(mount.env), NO_COLOR: "1" };
    const files = [...mount.sharedFiles, { path: mount.roleFiles[0].path, content: config }];
    return runWithMounts(dir, files, [agentProgram("node24") as string, agentProgram("openclaw") as string, ...args], env);
  }

  // The model is the user's choice (the mounted config names none): one the gateway fronts.
  const agentTurn = (run: string, config: string) => openclaw(run, config, ["agent", "--local", "--agent", "research_agent", "--model", "anthropic/claude-sonnet-4-5", "--message", `${marker(run)}: search the web`, "--json", "--timeout", "120"]);
  /** The tool results OpenClaw sent back to the model in a run, in turn (its last model request holds them all). */
  const toolResultsOf = (run: string) => toolResultsIn(env.stub.requests.filter((r) => r.text.includes(marker(run))).at(-1));

  it("validates the mounted config, plugin included, with OpenClaw's own loader", async () => {
    const mounted = mount.roleFiles[0].content;
    const parsed = JSON.parse(mounted);
    expect(parsed.models.providers).toEqual({ anthropic: { baseUrl: `${mountedGatewayUrl}/tools/anthropic`, api: "anthropic-messages", apiKey: OpenClawConfig.GATEWAY_KEY_PLACEHOLDER } });
    const valid = await openclaw("validate", mounted, ["config", "validate", "--json"]);
    expect(valid.code, valid.output).toBe(0);
    expect(JSON.parse(valid.output.slice(valid.output.indexOf("{")))).toMatchObject({ valid: true, path: mount.env.find(([name]) => name === "OPENCLAW_CONFIG_PATH")?.[1] });
    // The loader checks the plugin's config against the plugin's own schema: a wrong access level is refused.
    const broken = mounted.replace('"access": "READ"', '"access": "ROOT"');
    const invalid = await openclaw("invalid", broken, ["config", "validate", "--json"]);
    expect(invalid.code).not.toBe(0);
    expect(invalid.output).toMatch(/plugins\.entries\.rapidclaw-gateway-check\.config\.tools\.web_search\.access/);
  }, 120_000);

  it("calls the model through the gateway with the gateway's key, before_tool_call allows, refuses a tool the role does not hold, refuses by network and fails closed, and each run is a task opened and ended by the run hooks", async () => {
    const mounted = mount.roleFiles[0].content;
    const at = (role: keyof typeof ROLE_ADDRESSES) => mounted.split(mountedGatewayUrl).join(env.listener(role));
    // OpenClaw's `write` offered, mapped to database at WRITE, which research holds at READ only: only the gateway can refuse it.
    const offersWrite = JSON.parse(at("research_agent"));
    offersWrite.agents.entries.research_agent.tools.allow.push("write");
    offersWrite.plugins.entries[OPENCLAW_PLUGIN_ID].config.tools.write = { tool: "database", access: ToolAccess.WRITE };
    const closed = `http://127.0.0.1:${await freePort()}`;
    const startDown = JSON.parse(at("research_agent"));
    startDown.plugins.entries[OPENCLAW_PLUGIN_ID].config.gatewayUrl = closed;
    // The same, less the run hooks (a role without task limits): the tool call itself meets the closed gateway.
    const checkDown = structuredClone(startDown);
    delete checkDown.plugins.entries[OPENCLAW_PLUGIN_ID].config.tasks;
    delete checkDown.plugins.entries[OPENCLAW_PLUGIN_ID].hooks;
    // Four agent turns at once: its own network (also offered `write`), the support role's network, the gateway down at the run's start or at its tool call.
    const [allowed, otherNetwork, down, startRefused] = await Promise.all([
      agentTurn("allowed", JSON.stringify(offersWrite, null, 2)),
      agentTurn("other-network", at("customer_support")),
      agentTurn("down", JSON.stringify(checkDown, null, 2)),
      agentTurn("start-down", JSON.stringify(startDown, null, 2)),
    ]);
    for (const [run, result] of Object.entries({ allowed, otherNetwork, down })) expect(result.code, `${run}:\n${result.output.slice(-3000)}`).toBe(0);
    // The research role has task limits: a run whose task the gateway cannot open is blocked before any model call.
    expect(startRefused.code).not.toBe(0);
    expect(startRefused.output).toContain("Rapid Claw: the tool gateway could not be asked to start this run");
    expect(env.stub.requests.filter((r) => r.text.includes(marker("start-down")))).toEqual([]);

    // Every model call went through the gateway, which put its key in place of OpenClaw's stand-in.
    expect(env.stub.requests.length).toBeGreaterThanOrEqual(9);
    expect(new Set(env.stub.requests.map((r) => r.headers["x-api-key"]))).toEqual(new Set([env.gw.keys.anthropic]));
    expect(new Set(env.stub.requests.map((r) => r.path))).toEqual(new Set(["/v1/messages"]));
    expect(mounted).not.toContain(env.gw.keys.anthropic);

    const [allowedSearch, refusedWrite] = toolResultsOf("allowed");
    expect(allowedSearch).not.toContain("Rapid Claw");
    expect(allowedSearch).toContain("web_search");
    // A tool the role does not hold at the access it needs: the plugin asks, the gateway refuses and records it, OpenClaw reports it blocked, nothing is written.
    expect(refusedWrite).toContain("Rapid Claw: the tool gateway refused WRITE on database: permission_denied");
    expect(existsSync(notWritten)).toBe(false);
    expect(env.gw.events.filter((e) => e.agent_role === "research_agent")).toEqual([
      expect.objectContaining({ event_type: "permission_denied", tool: "database", details: { method: "CHECK", required: ToolAccess.WRITE, granted: ToolAccess.READ } }),
    ]);
    const [otherSearch, hiddenWrite] = toolResultsOf("other-network");
    expect(otherSearch).toContain("Rapid Claw: the tool gateway refused READ on web_search");
    expect(env.gw.events).toEqual(expect.arrayContaining([expect.objectContaining({ event_type: "permission_denied", tool: "web_search", agent_role: "customer_support" })]));
    // The config as mounted does not offer `write` (its allow list names the role's tools only): OpenClaw itself knows no such tool.
    expect(hiddenWrite).toContain("Unknown tool id: write");
    expect(toolResultsOf("down")[0]).toContain("Rapid Claw: the tool gateway could not be asked about web_search");

    // The allowed run was a task: before_agent_run opened it, its allowed check counted in it (OpenClaw's run id; the refused one not), agent_end ended it.
    const tasks = (await env.redis.cli("KEYS", "tk:{research_agent}:task:*")).trim().split("\n").filter(Boolean);
    expect(tasks).toHaveLength(1);
    expect((await env.redis.cli("HGET", tasks[0], "calls")).trim()).toBe("1");
    expect((await env.redis.cli("ZCARD", "tk:{research_agent}:open")).trim()).toBe("0");
  }, 300_000);
});

/** The tool results (their content, as JSON) in a model request's messages, in turn. */
function toolResultsIn(request: ModelRequest | undefined): string[] {
  const messages: { content: unknown }[] = request?.body.messages ?? [];
  return messages.flatMap((m) => (Array.isArray(m.content) ? m.content.filter((c) => c.type === "tool_result").map((c) => JSON.stringify(c.content)) : []));
}
