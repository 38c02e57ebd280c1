/**
 * `rapidclaw logs` and `rapidclaw alerts` on recorded logs: the proxy lines were recorded from
 * real Squid by the monitoring e2e test (RAPIDCLAW_E2E_SHOW_LOG=1); the gateway lines follow the
 * gateway's event line shape. Output is checked line by line; malformed input is reported with
 * file:line and skipped, with the documented exit codes.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { firewallScenario } from "../examples/firewall-scenario";
import { registerAlertsCommand } from "../src/cli/alerts-command";
import type { CliIo } from "../src/cli/cli-io";
import { EXIT } from "../src/cli/exit-codes";
import { registerLogsCommand } from "../src/cli/logs-command";
import { AgentPlatform } from "../src/model/types";

const FIXTURES = join(__dirname, "fixtures", "monitoring");
const PROXY = join(FIXTURES, "proxy-access.log");
const GATEWAY = join(FIXTURES, "gateway-events.log");
const MIXED = join(FIXTURES, "mixed.log");
const dir = mkdtempSync(join(tmpdir(), "rapidclaw-h5-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  readonly out: string;
  readonly err: string;
  readonly code: number | undefined;
}

async function rapidclaw(args: string[], stdin = "", stop?: AbortSignal): Promise<Run> {
  const result = { out: "", err: "", code: undefined as number | undefined };
  const io: CliIo = { stdin: Readable.from([stdin]), out: (t) => (result.out += t), err: (t) => (result.err += t), exit: (c) => (result.code = c), stop };
  const program = new Command("rapidclaw").exitOverride();
  registerLogsCommand(program, io);
  registerAlertsCommand(program, io);
  await program.parseAsync(args, { from: "user" });
  return result;
}

const rawLines = (file: string) => readFileSync(file, "utf8").split("\n").filter((l) => l !== "");

describe("rapidclaw logs", () => {
  it("summarises proxy and gateway lines by event, role, tool and host, and over time", async () => {
    const run = await rapidclaw(["logs", PROXY, GATEWAY]);
    expect(run.err).toBe("");
    expect(run.code).toBe(EXIT.OK);
    expect(run.out.split("\n")).toEqual([
      "22 events from 2026-11-29T10:41:29.234Z to 2026-11-29T10:55:00.000Z",
      "",
      "by event",
      "  limiter_unavailable       1",
      "  network_blocked           8",
      "  permission_denied         3",
      "  rate_limited             10",
      "",
      "by role",
      "  research_agent        20  limiter_unavailable 1, network_blocked 8, permission_denied 1, rate_limited 10",
      "  customer_support       2  permission_denied 2",
      "",
      "by tool",
      "  web_search      10  rate_limited 10",
      "  (none)           8  network_blocked 8",
      "  database         3  limiter_unavailable 1, permission_denied 2",
      "  send_email       1  permission_denied 1",
      "",
      "by host",
      "  (none)               14  limiter_unavailable 1, permission_denied 3, rate_limited 10",
      "  probe-0.example       1  network_blocked 1",
      "  probe-1.example       1  network_blocked 1",
      "  probe-2.example       1  network_blocked 1",
      "  probe-3.example       1  network_blocked 1",
      "  probe-4.example       1  network_blocked 1",
      "  probe-5.example       1  network_blocked 1",
      "  probe-6.example       1  network_blocked 1",
      "  probe-7.example       1  network_blocked 1",
      "",
      "over time (300 s buckets)",
      "  2026-11-29T10:40:00.000Z      21  limiter_unavailable 1, network_blocked 8, permission_denied 2, rate_limited 10",
      "  2026-11-29T10:45:00.000Z       0",
      "  2026-11-29T10:50:00.000Z       0",
      "  2026-11-29T10:55:00.000Z       1  permission_denied 1",
      "",
    ]);
  });

  it("--json counts every line of the recorded files, by the event each line names", async () => {
    const run = await rapidclaw(["logs", "--json", "--bucket", "1m", PROXY, GATEWAY]);
    const summary = JSON.parse(run.out) as { events: number; byEvent: Record<string, number>; overTime: unknown[]; malformedLines: number };
    const lines = [...rawLines(PROXY), ...rawLines(GATEWAY)].map((l) => JSON.parse(l) as { event?: string; event_type?: string });
    const expected: Record<string, number> = {};
    for (const l of lines) expected[(l.event ?? l.event_type) as string] = (expected[(l.event ?? l.event_type) as string] ?? 0) + 1;
    expect(summary.events).toBe(lines.length);
    expect(summary.byEvent).toEqual(expected);
    expect(summary.overTime).toHaveLength(15); // 10:41 … 10:55, one-minute buckets
    expect(summary.malformedLines).toBe(0);
  });

  it("reads stdin when given no file, and --since keeps later events only", async () => {
    const run = await rapidclaw(["logs", "--since", "2026-11-29T10:43:00Z", "--json"], readFileSync(GATEWAY, "utf8"));
    expect(JSON.parse(run.out).byEvent).toEqual({ limiter_unavailable: 1, permission_denied: 3 });
  });

  it("reports malformed lines as file:line, skips them, and exits 3", async () => {
    const run = await rapidclaw(["logs", "--json", MIXED]);
    expect(run.code).toBe(EXIT.MALFORMED_LINES);
    expect(run.err.split("\n")).toEqual([
      `${MIXED}:2: skipped a malformed line: not JSON (Expected ',' or '}' after property value in JSON at position 73)`,
      `${MIXED}:3: skipped a malformed line: timestamp is not an ISO-8601 time with a zone`,
      "2 malformed lines skipped",
      "",
    ]);
    // Line 1 is Squid's cache log, not an event line: counted apart, not reported.
    expect(JSON.parse(run.out)).toMatchObject({ events: 1, byEvent: { egress_allowed: 1 }, malformedLines: 2, otherLines: 1 });
  });

  it("exits 2 naming a file it cannot read, and on a bad --since", async () => {
    const missing = await rapidclaw(["logs", PROXY, join(dir, "nope.log")]);
    expect(missing.code).toBe(EXIT.USAGE);
    expect(missing.err).toBe(`rapidclaw: cannot read ${join(dir, "nope.log")}: ENOENT\n`);
    const since = await rapidclaw(["logs", "--since", "yesterday", PROXY]);
    expect(since.code).toBe(EXIT.USAGE);
    expect(since.err).toContain("--since yesterday: give a duration back from now (90s, 15m, 2h, 1d)");
  });

  it("--follow prints each event as it is appended, until stopped", async () => {
    const file = join(dir, "follow.log");
    const [first, second, third] = rawLines(GATEWAY);
    writeFileSync(file, first + "\n");
    const stop = new AbortController();
    const running = rapidclaw(["logs", "--follow", file], "", stop.signal);
    await new Promise((r) => setTimeout(r, 400));
    appendFileSync(file, second + "\n" + third.slice(0, 20));
    await new Promise((r) => setTimeout(r, 400));
    appendFileSync(file, third.slice(20) + "\n");
    await new Promise((r) => setTimeout(r, 400));
    stop.abort();
    const run = await running;
    expect(run.out.split("\n")).toEqual([
      "2026-11-29T10:42:10.000Z rate_limited role=research_agent tool=web_search",
      "2026-11-29T10:42:13.000Z rate_limited role=research_agent tool=web_search",
      "2026-11-29T10:42:16.000Z rate_limited role=research_agent tool=web_search",
      "",
    ]);
    expect(run.code).toBe(EXIT.OK);
  });
});

describe("rapidclaw alerts", () => {
  it("prints what would have fired and resolved, in time order, and exits 1", async () => {
    const run = await rapidclaw(["alerts", PROXY, GATEWAY]);
    expect(run.code).toBe(EXIT.ALERTS_FIRED);
    expect(run.out.split("\n")).toEqual([
      "2026-11-29T10:41:29.475Z  [CRITICAL] FIRING network_blocked for role research_agent: 5 network_blocked events within 300 s (threshold 5) (hosts: probe-0.example, probe-1.example, probe-2.example, probe-3.example, probe-4.example)",
      "2026-11-29T10:42:37.000Z  [WARNING] FIRING rate_limited for role research_agent, tool web_search: 10 rate_limited events within 300 s (threshold 10)",
      // The fifth-newest blocked line (10:41:29.415) leaves the 300 s window.
      "2026-11-29T10:46:29.415Z  [CRITICAL] RESOLVED network_blocked for role research_agent: back below 5 network_blocked events within 300 s",
      "2026-11-29T10:47:10.000Z  [WARNING] RESOLVED rate_limited for role research_agent, tool web_search: back below 10 rate_limited events within 300 s",
      "2 alerts would have fired over 22 events; 0 still firing at the last event (2026-11-29T10:55:00.000Z)",
      "",
    ]);
  });

  it("--json prints the event lines the gateway would have written", async () => {
    const run = await rapidclaw(["alerts", "--json", PROXY, GATEWAY]);
    const lines = run.out.trim().split("\n").map((l) => JSON.parse(l) as { event_type: string; agent_role: string; tool: string | null; details: { dedup_key: string } });
    expect(lines.map((l) => `${l.event_type} ${l.agent_role} ${l.tool}`)).toEqual([
      "alert_firing research_agent null",
      "alert_firing research_agent web_search",
      "alert_resolved research_agent null",
      "alert_resolved research_agent web_search",
    ]);
    expect(lines[2].details.dedup_key).toBe(lines[0].details.dedup_key);
  });

  it("uses the thresholds of --config: none fire under higher ones, exit 0", async () => {
    const spec = join(dir, "firewall.yaml");
    const high = { count: 100, windowSec: 60, severity: "info" };
    writeFileSync(spec, stringify({ ...firewallScenario(AgentPlatform.DOCKER), monitoring: { rateLimited: high, permissionDenied: high, networkBlocked: high } }));
    const run = await rapidclaw(["alerts", "--config", spec, PROXY, GATEWAY]);
    expect(run.out).toBe("0 alerts would have fired over 22 events; 0 still firing at the last event (2026-11-29T10:55:00.000Z)\n");
    expect(run.code).toBe(EXIT.OK);
    const bad = await rapidclaw(["alerts", "--config", MIXED, PROXY]);
    expect(bad.code).toBe(EXIT.USAGE);
  });

  it("runs as the rapidclaw program, with its exit codes (bad arguments: 2, not commander's 1)", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "..", "src", "cli", "main.ts"), "alerts", MIXED], { encoding: "utf8", timeout: 30_000 });
    expect(result.stdout).toBe("0 alerts would have fired over 1 events; 0 still firing at the last event (2026-11-29T10:42:01.000Z)\n");
    expect(result.status).toBe(EXIT.MALFORMED_LINES);
    const unknownOption = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "..", "src", "cli", "main.ts"), "alerts", "--treshold", "3"], { encoding: "utf8", timeout: 30_000 });
    expect(unknownOption.stderr).toContain("unknown option '--treshold'");
    expect(unknownOption.status).toBe(EXIT.USAGE);
  });
});
