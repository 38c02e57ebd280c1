import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleHook, NODE_BUILTINS } from "../../scripts/bundle-gateway";
import { skipLoudly } from "../e2e/support/prerequisites";
import { AgentRuntime } from "../../src/model/types";
import { FirewallSpec, planOf } from "../../src/plan/firewall-spec";
import { agentRuntimeMount, type AgentRuntimeMount } from "../../src/render/agent-runtime-files";
import { OPENCLAW_PLUGIN_ID } from "../../src/render/openclaw-config";
import { readPackageFile } from "../../src/terraform/package-files";
import { gatewayScenario } from "./fixture";
import { ROLE_ADDRESSES, startGatewayEnvironment, stopGatewayEnvironment, type TestGateway } from "./support/harness";
import { missingRedis, TestRedis } from "./support/redis";
import type { TestUpstream } from "./support/upstream";

const skip = skipLoudly("mounted agent hooks against a real gateway and Redis", missingRedis());

/** What Hermes sends a pre_tool_call hook on stdin. */
const hermesCall = (tool: string) =>
  JSON.stringify({ hook_event_name: "pre_tool_call", tool_name: tool, tool_input: { query: "x" }, session_id: "s1", cwd: "/tmp", profile: "default", extra: { task_id: "t1" } });

/**
 * The files of an agent's runtime written under `root` as they are mounted into the agent (the
 * path in the agent below `root`); returns the file system view of the agent.
 */
function mountUnder(root: string, mount: AgentRuntimeMount): (agentPath: string) => string {
  const at = (agentPath: string) => join(root, agentPath);
  for (const file of [...mount.sharedFiles, ...mount.roleFiles]) {
    mkdirSync(dirname(at(file.path)), { recursive: true });
    writeFileSync(at(file.path), file.content);
  }
  return at;
}

describe("the hook bundle", () => {
  const dirs = [mkdtempSync(join(tmpdir(), `hnat2-${process.pid}-hook-a-`)), mkdtempSync(join(tmpdir(), `hnat2-${process.pid}-hook-b-`))];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("is byte-identical on rebuild in another directory (agents' synthesized files depend on it), and small", async () => {
    const files = dirs.map((dir) => join(dir, "rapidclaw-hook.cjs"));
    expect((await Promise.all(files.map((file) => bundleHook(file)))).flatMap((r) => r.warnings)).toEqual([]);
    const [a, b] = files.map((file) => readFileSync(file));
    expect(a.equals(b)).toBe(true);
    console.info(`hook bundle: ${a.length} bytes`);
    expect(a.length).toBeLessThan(128 * 1024);
  });
});

describe.skipIf(skip)("the hooks mounted into agents, run against the real gateway", () => {
  let redis: TestRedis;
  let upstream: TestUpstream;
  let gw: TestGateway;
  const root = mkdtempSync(join(tmpdir(), `hnat2-${process.pid}-agent-root-`));
  const spec = gatewayScenario({
    agents: [
      { name: "hermes-agent", image: "nousresearch/hermes-agent:0.19.0", role: "research_agent", runtime: AgentRuntime.HERMES },
      { name: "openclaw-agent", image: "openclaw/agent:2026.9.6", role: "research_agent", runtime: AgentRuntime.OPENCLAW },
    ],
  });
  const firewall = FirewallSpec.fromProps(spec);
  const mountOf = (name: string) => agentRuntimeMount(firewall, planOf(firewall).agents.find((a) => a.name === name)!, readPackageFile)!;
  const listener = (role: string) => `http://${ROLE_ADDRESSES[role].listener}:${gw.rolePort}`;

  beforeAll(async () => {
    ({ redis, upstream, gw } = await startGatewayEnvironment(spec));
  });

  afterAll(async () => {
    await stopGatewayEnvironment({ gw, upstream, redis });
    rmSync(root, { recursive: true, force: true });
  });

  /**
   * Runs the pre_tool_call command exactly as the mounted config.yaml writes it, the way Hermes
   * does (split into words, no shell), with the mounted paths under `root` and the agent's
   * gateway variable pointed at a local listener (the plan's address is the deployed one).
   */
  function runMountedHook(input: string, gatewayUrl: string, replaceArgs?: string[]): Promise<{ code: number | null; stdout: string }> {
    const mount = mountOf("hermes-agent");
    const at = mountUnder(join(root, "hermes"), mount);
    const home = new Map(mount.env).get("HERMES_HOME") as string;
    const command = parse(readFileSync(at(`${home}/config.yaml`), "utf8"), { version: "1.1" }).hooks.pre_tool_call[0].command as string;
    const [program, bundle, ...args] = command.split(" ");
    expect(program).toBe("node");
    // No node_modules beside the bundle, nor a NODE_PATH: it runs alone, as in the agent.
    const env = { PATH: process.env.PATH, ...Object.fromEntries(mount.env), RAPIDCLAW_GATEWAY_URL: gatewayUrl };
    const child = spawn(process.execPath, [at(bundle), ...(replaceArgs ?? args)], { cwd: root, env });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stdin.end(input);
    return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout })));
  }

  it("Hermes: the mounted command exits 0 when the gateway allows and 2 with a block message when it refuses", async () => {
    const [allowed, refused, outside] = await Promise.all([
      runMountedHook(hermesCall("web_search"), listener("research_agent")),
      // The same call from the support role's listener: refused by network identity.
      runMountedHook(hermesCall("web_search"), listener("customer_support")),
      runMountedHook(hermesCall("terminal"), listener("research_agent")),
    ]);
    expect(allowed).toEqual({ code: 0, stdout: "" });
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout)).toEqual({ action: "block", message: expect.stringContaining("the tool gateway refused READ on web_search") });
    expect(outside.code).toBe(2);
    expect(gw.events.some((e) => e.event_type === "permission_denied" && e.tool === "web_search" && e.agent_role === "customer_support")).toBe(true);
  });

  it("OpenClaw: the mounted plugin, loaded from the directory the mounted config names, allows and blocks by the gateway's answer", async () => {
    const mount = mountOf("openclaw-agent");
    const at = mountUnder(join(root, "openclaw"), mount);
    const config = JSON.parse(readFileSync(at(new Map(mount.env).get("OPENCLAW_CONFIG_PATH") as string), "utf8"));
    const plugin = (await import(pathToFileURL(at(`${config.plugins.load.paths[0]}/index.js`)).href)).default;
    expect(plugin.id).toBe(OPENCLAW_PLUGIN_ID);
    const handlerFor = (gatewayUrl: string) => {
      let handler: ((event: { toolName: string; params: unknown }, ctx: object) => Promise<unknown>) | undefined;
      plugin.register({ pluginConfig: { ...config.plugins.entries[OPENCLAW_PLUGIN_ID].config, gatewayUrl }, on: (name: string, h: typeof handler) => { if (name === "before_tool_call") handler = h; } });
      return handler!;
    };
    expect(await handlerFor(listener("research_agent"))({ toolName: "web_search", params: {} }, {})).toBeUndefined();
    expect(await handlerFor(listener("customer_support"))({ toolName: "web_search", params: {} }, {})).toEqual({
      block: true,
      blockReason: expect.stringContaining("the tool gateway refused READ on web_search"),
    });
  });

  it("Hermes: the mounted bundle needs only Node's own modules, and blocks (exit 2) on bad arguments and unknown commands", async () => {
    const mount = mountOf("hermes-agent");
    const [bundle] = mount.sharedFiles.filter((f) => f.path.endsWith(".cjs"));
    const required = [...bundle.content.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(required.filter((name) => !NODE_BUILTINS.has(name))).toEqual([]);
    const [badTool, unknownCommand] = await Promise.all([
      runMountedHook(hermesCall("web_search"), listener("research_agent"), ["hook", "hermes", "--tool", "web_search=web_search:ROOT"]),
      runMountedHook(hermesCall("web_search"), listener("research_agent"), ["gateway", "--config", "x"]),
    ]);
    expect(badTool.code).toBe(2);
    expect(JSON.parse(badTool.stdout).message).toMatch(/bad --tool/);
    expect(unknownCommand.code).toBe(2);
  });
});
