/**
 * The real Hermes Agent (the pinned PyPI package) with the `config.yaml` and the hook program the
 * stack mounts into a Hermes agent, at the paths it mounts them (a mount namespace lays them over
 * /opt), against the real gateway with a real redis-server. The model is a scripted stand-in for
 * an OpenAI-compatible API behind the gateway (support/model-stub.ts) that asks for one tool call
 * per run; Hermes runs one prompt and exits (`hermes -z`).
 *
 * What the test changes: the gateway's address in the mounted config and in the agent's
 * `RAPIDCLAW_GATEWAY_URL` (the stack's Docker address, replaced by a test listener), and for one
 * run the variable alone (the check endpoint down while the model is reachable).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentPlatform, AgentRuntime, ToolAccess } from "../../src/model/types";
import { freePort } from "../gateway/support/net";
import { missingRedis } from "../gateway/support/redis";
import { fronted } from "../support/gateway-spec";
import { agentProgram, missingAgentPrograms } from "./support/agent-programs";
import { startModelGateway, type ModelGateway, type ModelRequest, type ModelTurn } from "./support/model-stub";
import { runtimeMountOf, runWithMounts } from "./support/mounted-agent";
import { missingPrerequisites, skipLoudlyOrFailInCi } from "./support/prerequisites";

const SKIP = skipLoudlyOrFailInCi(
  "Hermes Agent with the mounted config and hook",
  [missingPrerequisites(["unshare", "mount", "node"]), missingAgentPrograms(["hermes"]), missingRedis()].filter(Boolean).join("; ") || undefined,
);

/** The pinned Hermes Agent (.ci/run). */
const HERMES_VERSION = "0.19.0";

/**
 * An OpenAI-compatible model API fronted by the gateway (its key held there), which both roles may
 * call; a workspace tool whose Hermes `read_file` research may use at READ (its `write_file`, which
 * needs WRITE, it may not); the support role holds no workspace access.
 */
const SPEC = fronted(AgentPlatform.DOCKER, (spec) => {
  // The model API is fronted by llm below, so no model host reaches it directly.
  spec.modelHosts = ["models.example.com"];
  spec.tools = { ...spec.tools, llm: { upstream: "https://api.openai.com/v1", key: {} }, workspace: { agentTools: { hermes: ["read_file", "write_file"] } } };
  spec.roles = {
    ...spec.roles,
    research_agent: { ...spec.roles.research_agent, tools: { ...spec.roles.research_agent.tools, llm: ToolAccess.WRITE, workspace: ToolAccess.READ } },
    customer_support: { ...spec.roles.customer_support, tools: { ...spec.roles.customer_support.tools, llm: ToolAccess.WRITE } },
  };
  spec.agents = [{ name: "hermes-agent", image: `nousresearch/hermes-agent:${HERMES_VERSION}`, role: "research_agent", runtime: AgentRuntime.HERMES }];
});

const marker = (run: string) => `rapidclaw-run-${run}`;

describe.skipIf(SKIP)(`Hermes Agent ${HERMES_VERSION} with the mounted config.yaml, pre_tool_call and on_session_end hooks`, () => {
  const { mount, gatewayUrl: mountedGatewayUrl } = runtimeMountOf(SPEC, "hermes-agent");
  const work = mkdtempSync(join(tmpdir(), "rchermes-"));
  /** A file the allowed read returns, and one the refused write would create. */
  const readable = join(work, "notes.txt");
  const notWritten = join(work, "written-by-agent.txt");
  const secretLine = `workspace note ${Date.now()}`;
  let env: ModelGateway;

  /** Each run's one tool call, picked by the run's marker in the prompt. */
  const calls: Record<string, ModelTurn> = {
    allowed: { tool: "read_file", args: { path: readable } },
    refused: { tool: "write_file", args: { path: notWritten, content: "should never be written" } },
    "other-network": { tool: "read_file", args: { path: readable } },
    down: { tool: "read_file", args: { path: readable } },
  };

  beforeAll(async () => {
    writeFileSync(readable, secretLine);
    env = await startModelGateway(SPEC, ["api.openai.com", "api.anthropic.com"], "llm", (request: ModelRequest) => {
      const messages: { role: string }[] = request.body.messages ?? [];
      if (messages.some((m) => m.role === "tool")) return { text: "done" };
      const run = Object.keys(calls).find((name) => request.text.includes(marker(name)));
      return run === undefined ? { text: "no run marker" } : calls[run];
    });
  });

  afterAll(async () => {
    await env?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** One prompt, as the agent's container runs Hermes: mounted files, its variables with the gateway's test address. */
  function hermes(run: string, modelAt: string, checkAt: string) {
    const dir = join(work, run);
    mkdirSync(join(dir, "home"), { recursive: true });
    const config = mount.roleFiles[0].content.split(mountedGatewayUrl).join(modelAt);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: join(dir, "home"), ...Object.fromEntries(mount.env), RAPIDCLAW_GATEWAY_URL: checkAt, NO_COLOR: "1" };
    const files = [...mount.sharedFiles, { path: mount.roleFiles[0].path, content: config }];
    return runWithMounts(dir, files, [agentProgram("hermes") as string, "-z", `${marker(run)}: use your tool`, "-m", "stub-model"], env);
  }

  /** What Hermes sent back to the model as the tool's result in a run (a block comes as `{"error": …}`). */
  const toolResultOf = (run: string) =>
    env.stub.requests
      .filter((r) => r.text.includes(marker(run)))
      .flatMap((r) => (r.body.messages as { role: string; content: string }[]).filter((m) => m.role === "tool").map((m) => errorOf(m.content) ?? m.content))
      .join("\n");

  it("mounts a config that hooks every call and sends the model to the gateway, with no key", () => {
    const config = parse(mount.roleFiles[0].content);
    expect(config.model).toEqual({ provider: "custom", base_url: `${mountedGatewayUrl}/tools/llm` });
    expect(config.hooks.pre_tool_call).toEqual([{ matcher: ".*", command: "node /opt/rapidclaw/rapidclaw-hook.cjs hook hermes --timeout-ms 9500 --tool read_file=workspace:READ --tool web_search=web_search:READ", timeout: 10, fail_closed: true }]);
    expect(config.hooks.on_session_end).toEqual([{ command: "node /opt/rapidclaw/rapidclaw-hook.cjs hook hermes --timeout-ms 9500", timeout: 10 }]);
    expect(config.toolsets).toEqual(["file", "search"]);
    expect(mount.roleFiles[0].content).not.toMatch(/api_key/);
  });

  it("runs one prompt per run: the hook allows the role's tool, blocks a refused one, another network's call and any call when the gateway is down", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const runs = await Promise.all([
      hermes("allowed", env.listener("research_agent"), env.listener("research_agent")),
      hermes("refused", env.listener("research_agent"), env.listener("research_agent")),
      hermes("other-network", env.listener("customer_support"), env.listener("customer_support")),
      hermes("down", env.listener("research_agent"), closed),
    ]);
    const [allowed, refused, otherNetwork, down] = runs;
    for (const [run, result] of Object.entries({ allowed, refused, otherNetwork, down })) expect(result.code, `${run}:\n${result.output.slice(-3000)}`).toBe(0);

    // The model calls went through the gateway, which put its key in; Hermes had none.
    const chats = env.stub.requests.filter((r) => r.path.endsWith("/chat/completions"));
    expect(chats.length).toBeGreaterThanOrEqual(8);
    expect(new Set(chats.map((r) => r.headers.authorization))).toEqual(new Set([`Bearer ${env.gw.keys.llm}`]));

    expect(toolResultOf("allowed")).toContain(secretLine);
    expect(toolResultOf("refused")).toMatch(/Rapid Claw: "write_file" is not a tool of this role/);
    expect(existsSync(notWritten)).toBe(false);
    expect(toolResultOf("other-network")).toContain("Rapid Claw: the tool gateway refused READ on workspace");
    expect(toolResultOf("other-network")).not.toContain(secretLine);
    expect(env.gw.events).toEqual(expect.arrayContaining([expect.objectContaining({ event_type: "permission_denied", tool: "workspace", agent_role: "customer_support" })]));
    expect(toolResultOf("down")).toContain("Rapid Claw: the tool gateway could not be asked about workspace");
    expect(toolResultOf("down")).not.toContain(secretLine);

    // The research role has task limits: the allowed run's check was one tool call of Hermes' task
    // (its task_id), and on_session_end ended the task at the run's end, so no slot stays taken.
    const tasks = (await env.redis.cli("KEYS", "tk:{research_agent}:task:*")).trim().split("\n").filter(Boolean);
    expect(tasks).toHaveLength(1);
    expect((await env.redis.cli("HGET", tasks[0], "calls")).trim()).toBe("1");
    expect((await env.redis.cli("ZCARD", "tk:{research_agent}:open")).trim()).toBe("0");
  }, 300_000);
});

/** The `error` of a tool result that is a JSON object with one, else undefined. */
function errorOf(content: string): string | undefined {
  try {
    const parsed = JSON.parse(content);
    return typeof parsed?.error === "string" ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}
