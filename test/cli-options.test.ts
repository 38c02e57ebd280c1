/**
 * The `rapidclaw` command's shared options, run through the built bundle as users run it:
 * `--version`, one name (`--config`) for the firewall file on every command that reads one, the
 * old `--spec` of `alerts` still accepted, a bad firewall file reported with every problem at
 * once, each at its file:line:column, and `gateway` checking every file its flags name (firewall
 * file and its webhooks' secrets, Redis login, upstream CA) in one pass.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { firewallScenario } from "../examples/firewall-scenario";
import { EXIT } from "../src/cli/exit-codes";
import { GATEWAY_BUNDLE_PATH } from "../src/constructs/gateway-bundle";
import { AgentPlatform } from "../src/model/types";

const ROOT = join(__dirname, "..");
const BUNDLE = join(ROOT, GATEWAY_BUNDLE_PATH);
const PROXY_LOG = join(__dirname, "fixtures", "monitoring", "proxy-access.log");
const dir = mkdtempSync(join(tmpdir(), "rapidclaw-cli-options-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rapidclaw(...args: string[]) {
  const result = spawnSync(process.execPath, [BUNDLE, ...args], { encoding: "utf8", timeout: 30_000 });
  return { out: result.stdout, err: result.stderr, code: result.status };
}

/** A firewall file whose thresholds are too high for the recorded events to alert. */
function quietFirewall(): string {
  const file = join(dir, "quiet.yaml");
  const high = { count: 100, windowSec: 60, severity: "info" };
  writeFileSync(file, stringify({ ...firewallScenario(AgentPlatform.DOCKER), monitoring: { rateLimited: high, permissionDenied: high, networkBlocked: high } }));
  return file;
}

describe("rapidclaw options", () => {
  it("--version and -V print the package's version", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) expect(rapidclaw(flag)).toEqual({ out: `${version}\n`, err: "", code: 0 });
  });

  it("every command that reads the firewall file calls it --config, and none --spec", () => {
    for (const command of ["gateway", "proxy-events", "alerts"]) {
      const help = rapidclaw(command, "--help");
      expect(help.code, command).toBe(0);
      expect(help.out, command).toMatch(/-c, --config <file>/);
      expect(help.out, command).not.toContain("--spec");
    }
  });

  it("alerts --config reads the thresholds; -c is its short form", () => {
    const config = quietFirewall();
    for (const flag of ["--config", "-c"]) {
      const run = rapidclaw("alerts", flag, config, PROXY_LOG);
      expect(run.err).toBe("");
      expect(run.out).toMatch(/^0 alerts would have fired over \d+ events/);
      expect(run.code).toBe(EXIT.OK);
    }
    // The built-in thresholds fire on the same events, so the file above was read.
    expect(rapidclaw("alerts", PROXY_LOG).code).toBe(EXIT.ALERTS_FIRED);
  });

  it("alerts --spec, the old name, still works, says it is deprecated, and cannot be given with --config", () => {
    const config = quietFirewall();
    const old = rapidclaw("alerts", "--spec", config, PROXY_LOG);
    expect(old.err).toBe("rapidclaw: --spec is deprecated; use --config (the name every command uses for the firewall file)\n");
    expect(old.out).toBe(rapidclaw("alerts", "--config", config, PROXY_LOG).out);
    expect(old.code).toBe(EXIT.OK);
    const both = rapidclaw("alerts", "--spec", config, "--config", config, PROXY_LOG);
    expect(both.err).toContain("option '--spec <file>' cannot be used with option '-c, --config <file>'");
    expect(both.code).toBe(EXIT.USAGE);
  });

  it("reports every problem of a bad firewall file at once, each at its file:line:column", () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, [
      "platform: docker",
      "modelHosts: ['*']",
      "tools:",
      "  web_search: { rateLimit: { maxCalls: 0, windowSec: 60 } }",
      "roles:",
      "  research_agent: { tools: { web_serch: READ } }",
      "",
    ].join("\n"));
    const run = rapidclaw("alerts", "--config", file, PROXY_LOG);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.err).toContain(`invalid firewall spec in ${file}: 3 problems`);
    expect(run.err).toContain(`  - modelHosts[0] (${file}:2:14): "*" would allow every host`);
    expect(run.err).toContain(`  - roles.research_agent.tools.web_serch (${file}:6:30): unknown tool "web_serch"; did you mean "web_search"?`);
    expect(run.err).toContain(`  - tools.web_search.rateLimit.maxCalls (${file}:4:40): maxCalls must be at least 1`);
  });

  it("gateway checks every file its flags name in one pass: a bad firewall file, an unreadable Redis login and a CA file without a certificate, all at once", () => {
    const bad = join(dir, "gateway-bad.yaml");
    writeFileSync(bad, stringify({ ...firewallScenario(AgentPlatform.DOCKER), modelHosts: ["*"] }));
    const notPem = join(dir, "not-a-ca.pem");
    writeFileSync(notPem, "hello\n");
    const missing = join(dir, "no-such-credentials.json");
    const run = rapidclaw("gateway", "--config", bad, "--key-dir", dir, "--redis-credentials-file", missing, "--upstream-ca", notPem, "--admin-port", "0");
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.err).toContain(`invalid firewall spec in ${bad}: 1 problem`);
    expect(run.err).toContain("would allow every host");
    expect(run.err).toContain(`  - --redis-credentials-file: cannot read ${missing} (ENOENT)`);
    expect(run.err).toContain(`  - --upstream-ca: ${notPem} holds no PEM certificate`);
    expect(run.out).toBe("");
  });

  it("gateway reports a valid firewall file's missing webhook secret together with a bad Redis login file", () => {
    const file = join(dir, "gateway-webhook.yaml");
    writeFileSync(file, stringify({ ...firewallScenario(AgentPlatform.DOCKER), monitoring: { webhooks: [{ format: "slack", severity: "warning", urlEnv: "RAPIDCLAW_TEST_NO_SUCH_VARIABLE" }] } }));
    const credentials = join(dir, "empty-credentials.json");
    writeFileSync(credentials, "{}");
    const run = rapidclaw("gateway", "--config", file, "--key-dir", dir, "--redis-credentials-file", credentials, "--admin-port", "0");
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.err).toContain("alert webhooks are not usable:\n  - monitoring.webhooks[0] (slack): environment variable RAPIDCLAW_TEST_NO_SUCH_VARIABLE (its URL) is not set");
    expect(run.err).toContain(`  - --redis-credentials-file: ${credentials} must hold a JSON object with non-empty string fields username and password`);
  });
});
