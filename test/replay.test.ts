/**
 * `rapidclaw replay` on recorded lines: the gateway's call decisions (refusals and would_deny
 * events, in the shape the gateway writes them; test/gateway/replay-recorded.test.ts replays
 * lines a real gateway wrote) and the proxy's lines recorded from real Squid, against candidate
 * descriptions, through the real decision core.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { CliIo } from "../src/cli/cli-io";
import { EXIT } from "../src/cli/exit-codes";
import { registerReplayCommand } from "../src/cli/replay-command";
import { SlidingWindowModel } from "../src/gateway/sliding-window";
import { Enforcement, ToolAccess, type FirewallSpecProps } from "../src/model/types";
import { gatewayScenario } from "./gateway/fixture";

const dir = mkdtempSync(join(tmpdir(), "rapidclaw-replay-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PROXY_LOG = join(__dirname, "fixtures", "monitoring", "proxy-access.log");

const base = gatewayScenario();
const R = "research_agent";
const C = "customer_support";

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const candidate = (name: string, spec: FirewallSpecProps) => file(`${name}.yaml`, stringify(spec));
const line = (at: number, type: string, tool: string, role: string, details: Record<string, unknown>) =>
  JSON.stringify({ timestamp: new Date(Date.UTC(2026, 11, 7, 22, 0, at)).toISOString(), event_type: type, tool, agent_role: role, details });
const lines = (...l: string[]) => `${l.join("\n")}\n`;

async function replay(args: string[], stdin = ""): Promise<{ out: string; err: string; code: number | undefined }> {
  const result = { out: "", err: "", code: undefined as number | undefined };
  const io: CliIo = { stdin: Readable.from([stdin]), out: (t) => (result.out += t), err: (t) => (result.err += t), exit: (c) => (result.code = c) };
  const program = new Command("rapidclaw").exitOverride();
  registerReplayCommand(program, io);
  await program.parseAsync(["replay", ...args], { from: "user" });
  return result;
}
const json = async (args: string[]) => {
  const run = await replay([...args, "--json"]);
  return { ...run, report: JSON.parse(run.out) };
};

const baseFile = candidate("base", base);
const withRole = (role: string, change: Record<string, unknown>) => ({ ...base, roles: { ...base.roles, [role]: { ...base.roles[role], ...change } } });

describe("rapidclaw replay: the gateway's permissions", () => {
  const refused = file("refused.log", lines(
    line(1, "permission_denied", "send_email", R, { method: "POST", path: "/v3/mail/send", required: "EXECUTE", granted: "DENY" }),
    line(2, "permission_denied", "database", C, { method: "GET", path: "/v1/rows", required: "READ", granted: "DENY" }),
  ));

  it("reports nothing against the description that refused them: exit 0", async () => {
    const run = await replay(["--config", baseFile, refused]);
    expect(run.code).toBe(EXIT.OK);
    expect(run.out).toBe(`rapidclaw replay: 2 of 2 recorded calls replayed against ${baseFile}\n\nNothing would change.\n`);
  });

  it("reports a refused call the candidate allows, per layer, role and tool: exit 1", async () => {
    const grants = candidate("grants", withRole(R, { tools: { ...base.roles[R].tools, send_email: ToolAccess.EXECUTE } }));
    const { code, report } = await json(["--config", grants, refused]);
    expect(code).toBe(EXIT.REPLAY_CHANGED);
    expect(report).toEqual({
      calls: 2, replayed: 2, changed: 1, notReplayed: [],
      changes: [{ layer: "gateway_permission", role: R, subject: "send_email", wouldRefuse: 0, wouldAllow: 1, first: "2026-12-07T22:00:01.000Z", approximate: true }],
    });
    // send_email has a rate limit: the call now permitted went through a window of the recorded calls alone.
  });

  it("decides the access a call needs by the candidate's operations: POST /v3/mail/send needs only WRITE once it is no operation", async () => {
    const spec = withRole(R, { tools: { ...base.roles[R].tools, send_email: ToolAccess.WRITE } });
    const same = await json(["--config", candidate("write", spec), refused]);
    expect(same.report.changed).toBe(0);
    const noOperation = await json(["--config", candidate("no-op", { ...spec, tools: { ...spec.tools, send_email: { ...spec.tools.send_email, executeOperations: [] } } }), refused]);
    expect(noOperation.report.changes).toEqual([expect.objectContaining({ layer: "gateway_permission", role: R, subject: "send_email", wouldAllow: 1 })]);
  });

  it("reads shadowed calls (would_deny) as allowed: enforcing the same rules refuses them, a candidate that grants them changes nothing", async () => {
    const shadowed = file("shadowed.log", lines(
      line(1, "would_deny", "send_email", R, { method: "POST", path: "/v3/mail/send", required: "EXECUTE", granted: "DENY", refusal: "permission_denied", status: 403 }),
      line(2, "would_deny", "send_email", R, { method: "CHECK", required: "EXECUTE", granted: "DENY", refusal: "permission_denied", status: 403 }),
    ));
    const enforce = await replay(["--config", baseFile, shadowed]);
    expect(enforce.code).toBe(EXIT.REPLAY_CHANGED);
    expect(enforce.out.split("\n")).toEqual([
      `rapidclaw replay: 2 of 2 recorded calls replayed against ${baseFile}`,
      "",
      "  layer               role            tool or host  would refuse  would allow  first",
      "  gateway permission  research_agent  send_email    2             0            2026-12-07T22:00:01.000Z",
      "",
      "  would refuse: allowed then (shadowed calls included), refused by the candidate; would allow: refused then, allowed by the candidate.",
      "",
      "2 recorded calls would change.",
      "",
    ]);
    expect((await replay(["--config", candidate("audit", { ...base, enforcement: Enforcement.AUDIT }), shadowed])).code).toBe(EXIT.OK);
    expect((await replay(["--config", candidate("granted", withRole(R, { tools: { ...base.roles[R].tools, send_email: ToolAccess.EXECUTE } })), shadowed])).code).toBe(EXIT.OK);
  });

  it("refuses MCP tools/call by the candidate's MCP tool list: an MCP tool no longer listed is refused", async () => {
    const mcp = { upstream: "https://mcp.tools.test/mcp", key: {}, mcp: { tools: { search_issues: ToolAccess.READ, create_issue: ToolAccess.WRITE } } };
    const spec = { ...base, tools: { ...base.tools, issues: mcp }, roles: { ...base.roles, [R]: { ...base.roles[R], tools: { ...base.roles[R].tools, issues: ToolAccess.WRITE } } } };
    const recorded = file("mcp.log", lines(line(1, "would_deny", "issues", R, { method: "POST", mcp_method: "tools/call", mcp_tool: "create_issue", required: "EXECUTE", granted: "WRITE", refusal: "permission_denied", status: 200 })));
    expect((await json(["--config", candidate("mcp", spec), recorded])).report.changed).toBe(0);
    const unlisted = { ...spec, tools: { ...spec.tools, issues: { ...mcp, mcp: { tools: { search_issues: ToolAccess.READ } } } } };
    expect((await json(["--config", candidate("mcp-unlisted", unlisted), recorded])).report.changes).toEqual([expect.objectContaining({ layer: "gateway_permission", subject: "issues", wouldRefuse: 1 })]);
  });
});

describe("rapidclaw replay: rate limits and token budgets", () => {
  const rate = (at: number, type = "rate_limited", extra: Record<string, unknown> = {}) =>
    line(at, type, "web_search", R, { method: "GET", path: "/v1/search", required: "READ", retry_after_sec: 10, max_calls: 20, window_sec: 60, ...extra });

  it("keeps a rate refusal under the same limit, and allows it once the candidate has no limit", async () => {
    const recorded = file("rate.log", lines(rate(1), rate(2)));
    expect((await json(["--config", baseFile, recorded])).report.changed).toBe(0);
    const unlimited = candidate("unlimited", { ...base, tools: { ...base.tools, web_search: { ...base.tools.web_search, rateLimit: undefined } } });
    expect((await json(["--config", unlimited, recorded])).report.changes).toEqual([expect.objectContaining({ layer: "gateway_rate", subject: "web_search", wouldAllow: 2, approximate: false })]);
  });

  it("replays a new limit by the recorded times through the limiter's sliding window, marked approximate", async () => {
    // Shadowed permission refusals the candidate grants, 2 a minute: the third within 60 s is refused, the one 60 s after the first fits again.
    const recorded = file("window.log", lines(...[0, 10, 20, 60].map((at) => line(at, "would_deny", "send_email", R, { method: "POST", path: "/v3/mail/send", required: "EXECUTE", granted: "DENY", refusal: "permission_denied", status: 403 }))));
    const spec = withRole(R, { tools: { ...base.roles[R].tools, send_email: ToolAccess.EXECUTE } });
    const limited = candidate("limited", { ...spec, tools: { ...spec.tools, send_email: { ...spec.tools.send_email, rateLimit: { maxCalls: 2, windowSec: 60 } } } });
    const { report } = await json(["--config", limited, recorded]);
    expect(report.changes).toEqual([{ layer: "gateway_rate", role: R, subject: "send_email", wouldRefuse: 1, wouldAllow: 0, first: "2026-12-07T22:00:20.000Z", approximate: true }]);
    const text = await replay(["--config", limited, recorded]);
    expect(text.out).toContain("  gateway rate ~  research_agent  send_email");
    expect(text.out).toContain("~ decided by a sliding window over the recorded calls alone");
  });

  it("says which token budget refusals it cannot replay, and replays what it can", async () => {
    const budget = (at: number) => line(at, "token_budget_exceeded", "web_search", R, { method: "GET", path: "/v1/search", required: "READ", retry_after_sec: 5, max_tokens: 1000, window_sec: 3600 });
    const spec = { ...base, tools: { ...base.tools, web_search: { ...base.tools.web_search, rateLimit: undefined, tokenLimit: { maxTokens: 1000, windowSec: 3600 } } } };
    const recorded = file("budget.log", lines(budget(1)));
    expect((await json(["--config", candidate("budget", spec), recorded])).report.changed).toBe(0);
    const raised = await json(["--config", candidate("budget-raised", { ...spec, tools: { ...spec.tools, web_search: { ...spec.tools.web_search, tokenLimit: { maxTokens: 5000, windowSec: 3600 } } } }), recorded]);
    expect(raised.code).toBe(EXIT.OK);
    expect(raised.report).toMatchObject({ calls: 1, replayed: 0, notReplayed: [{ reason: "token budget changed: the tokens calls used are not in the logs", count: 1 }] });
    const none = await json(["--config", candidate("budget-none", { ...spec, tools: { ...spec.tools, web_search: { ...spec.tools.web_search, tokenLimit: undefined } } }), recorded]);
    expect(none.report.changes).toEqual([expect.objectContaining({ layer: "gateway_token_budget", wouldAllow: 1 })]);
  });
});

describe("rapidclaw replay: the proxy's host allowlist", () => {
  it("replays lines recorded from real Squid: hosts the candidate lists are reported as allowed", async () => {
    expect((await json(["--config", baseFile, PROXY_LOG])).report).toMatchObject({ calls: 8, replayed: 8, changed: 0 });
    const spec = withRole(R, { network: { ...base.roles[R].network, allowedHosts: [...(base.roles[R].network?.allowedHosts ?? []), "probe-0.example", "probe-7.example"] } });
    const { code, report } = await json(["--config", candidate("probes", spec), PROXY_LOG]);
    expect(code).toBe(EXIT.REPLAY_CHANGED);
    expect(report.changes).toEqual(["probe-0.example", "probe-7.example"].map((subject) => expect.objectContaining({ layer: "proxy_host", role: R, subject, wouldAllow: 1, wouldRefuse: 0 })));
  });

  it("reads would_block lines (the proxy's audit mode) as allowed: enforcing refuses them, an auditing candidate does not; a listed host's TLS server name must match", async () => {
    const proxyLine = (host: string, event: string, sni: string) =>
      JSON.stringify({ ts: "2026-12-07T22:00:00.000Z", event, client: "10.0.0.5", role: R, method: "CONNECT", host, port: "443", sni, status: 200, result: "TCP_TUNNEL", bytes: 10 });
    const recorded = file("would-block.log", lines(proxyLine("github.com", "would_block", "github.com"), proxyLine("arxiv.org", "network_blocked", "attacker.example")));
    expect((await json(["--config", baseFile, recorded])).report.changes).toEqual([expect.objectContaining({ layer: "proxy_host", subject: "github.com", wouldRefuse: 1, wouldAllow: 0 })]);
    const auditing = await json(["--config", candidate("proxy-audit", { ...base, proxy: { enforcement: Enforcement.AUDIT } }), recorded]);
    expect(auditing.code).toBe(EXIT.OK);
  });

  it("reports an allowed host the candidate drops, and refuses a wildcard's apex, an IP literal and a port other than 443", async () => {
    const proxyLine = (host: string, event = "egress_allowed", port = "443") =>
      JSON.stringify({ ts: "2026-12-07T22:00:00.000Z", event, client: "10.0.0.5", role: R, method: "CONNECT", host, port, status: 200, result: "TCP_TUNNEL", bytes: 10 });
    const recorded = file("proxy.log", lines(proxyLine("arxiv.org"), proxyLine("api.github.com", "egress_allowed", "8443"), proxyLine("google.com", "network_blocked"), proxyLine("10.0.0.1", "network_blocked")));
    const spec = withRole(R, { network: { allowEgress: true, allowedHosts: ["*.google.com", "api.github.com"] } });
    const { report } = await json(["--config", candidate("drop", spec), recorded]);
    expect(report.changes).toEqual([
      { layer: "proxy_host", role: R, subject: "api.github.com", wouldRefuse: 1, wouldAllow: 0, first: "2026-12-07T22:00:00.000Z", approximate: false },
      { layer: "proxy_host", role: R, subject: "arxiv.org", wouldRefuse: 1, wouldAllow: 0, first: "2026-12-07T22:00:00.000Z", approximate: false },
    ]);
  });
});

describe("rapidclaw replay: bad input exits 2", () => {
  it("without --config", async () => {
    await expect(replay([PROXY_LOG])).rejects.toThrow(/required option '-c, --config <file>' not specified/);
  });

  it("with an invalid candidate, naming its problem", async () => {
    const run = await replay(["--config", candidate("invalid", { ...base, enforcement: "shadow" as Enforcement }), PROXY_LOG]);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.err).toMatch(/- enforcement \(.*invalid\.yaml:\d+:\d+\): enforcement must be one of "enforce", "audit", got "shadow"/);
  });

  it("with an unreadable log file", async () => {
    const run = await replay(["--config", baseFile, join(dir, "missing.log")]);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.err).toContain("missing.log");
  });

  it("with a malformed line, listed with its place, even when something would change", async () => {
    const recorded = file("malformed.log", lines(line(1, "would_deny", "send_email", R, { method: "CHECK", required: "EXECUTE", refusal: "permission_denied", status: 403 }), '{"event_type":"permission_denied"}'));
    const run = await replay(["--config", baseFile, recorded]);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.err).toContain(`${recorded}:2: skipped a malformed line`);
    expect(run.out).toBe("");
  });

  it("reads stdin when no file is given", async () => {
    const run = await replay(["--config", baseFile, "--json"], lines(line(1, "would_deny", "send_email", R, { method: "CHECK", required: "EXECUTE", refusal: "permission_denied", status: 403 })));
    expect(run.code).toBe(EXIT.REPLAY_CHANGED);
  });
});

describe("the limiter's sliding window, in memory", () => {
  it("counts a call only when it fits, and lets an entry leave at exactly the window's length, as the Redis script does", () => {
    const window = new SlidingWindowModel({ maxCalls: 2, windowSec: 10 });
    expect([0, 1, 2, 9_999, 10_000, 10_001, 11_000].map((t) => window.take(t))).toEqual([true, true, false, false, true, true, false]);
  });
});
