import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import { gatewayScenario } from "./fixture";
import { CliProcess } from "./support/cli";
import { ROLE_ADDRESSES, withTestListeners, writeKeys } from "./support/harness";
import { call, untilReady } from "./support/net";
import { missingRedis, TestRedis } from "./support/redis";
import { selfSignedCertificate, TestUpstream, type TestCertificate } from "./support/upstream";

/** The limiter's key of research_agent's calls to database (a limited tool). */
const LIMITER_KEY = "rl:{research_agent:database}";

describe.skipIf(skipLoudly("gateway with Redis credentials from a file, against a real redis-server with a password", missingRedis()))("the gateway's Redis credentials file", () => {
  const dir = mkdtempSync(join(tmpdir(), `hrc-${process.pid}-`));
  const adminPassword = randomBytes(12).toString("hex");
  const gatewayPassword = randomBytes(12).toString("hex");
  let redis: TestRedis;
  let certificate: TestCertificate;
  let upstream: TestUpstream;
  let config = "";
  let keyDir = "";
  let rolePort = 0;
  const running: CliProcess[] = [];

  /** A gateway process on the test's firewall file and keys, with these extra arguments and environment. */
  const gateway = (args: string[], env: NodeJS.ProcessEnv = {}): CliProcess => {
    const process = new CliProcess([
      "gateway", "--config", config, "--key-dir", keyDir, "--redis", redis.url, "--listen-host", "127.0.0.1",
      "--admin-port", "0", "--admin-host", "127.0.0.1",
      "--upstream-address", `database=127.0.0.1:${upstream.port}`, "--upstream-ca", certificate.certFile, ...args,
    ], { env: { RAPIDCLAW_REDIS_CREDENTIALS_FILE: undefined, ...env } });
    running.push(process);
    return process;
  };
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o400 });
    return path;
  };
  const callDatabase = () => call({ host: ROLE_ADDRESSES.research_agent.listener, port: rolePort, path: "/tools/database/rows" });
  const adminPort = (p: CliProcess) => Number(/admin on [^ ]+:(\d+)/.exec(p.stderr)?.[1]);

  beforeAll(async () => {
    // The default user has its own password; the gateway logs in as an ACL user limited to the limiter's and the alert windows' keys.
    redis = await TestRedis.start(["--requirepass", adminPassword], ["--user", "default", "--pass", adminPassword, "--no-auth-warning"]);
    expect(await redis.cli("ACL", "SETUSER", "hrcgw", "on", `>${gatewayPassword}`, "~rl:*", "~rapidclaw:*", "+@all")).toBe("OK\n");
    certificate = selfSignedCertificate(["db.tools.test"]);
    upstream = await TestUpstream.start(certificate);
    const listening = await withTestListeners(gatewayScenario());
    rolePort = listening.rolePort;
    keyDir = writeKeys(listening.spec).dir;
    config = file("firewall.json", JSON.stringify(listening.spec));
  }, 60_000);

  // Every test uses the same listener ports: the next gateway starts once this one is gone, even after a failure.
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });

  afterAll(async () => {
    await upstream?.stop();
    await redis?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs both connections in with the file's user and password and serves a limited call", async () => {
    const credentials = file("credentials.json", JSON.stringify({ username: "hrcgw", password: gatewayPassword }));
    const gw = gateway(["--redis-credentials-file", credentials]);
    await gw.waitFor("listening");
    await untilReady(adminPort(gw));
    const answer = await callDatabase();
    expect(answer.status, answer.body).toBe(200);
    expect(await redis.cli("ZCARD", LIMITER_KEY)).toBe("1\n");
    // The alert windows' connection (the other one) logged in too: it never reported Redis unreachable.
    expect(gw.stderr).not.toContain("alert windows unreachable");
    expect((await redis.cli("CLIENT", "LIST")).match(/ user=hrcgw /g)).toHaveLength(2);
    expect(gw.stderr + gw.stdout).not.toContain(gatewayPassword);
  });

  it("reads the file named by RAPIDCLAW_REDIS_CREDENTIALS_FILE, and fails closed when its password is wrong", async () => {
    const wrong = file("wrong.json", JSON.stringify({ username: "hrcgw", password: "not-the-password" }));
    const gw = gateway([], { RAPIDCLAW_REDIS_CREDENTIALS_FILE: wrong });
    await gw.waitFor("listening");
    const readyz = await call({ host: "127.0.0.1", port: adminPort(gw), path: "/readyz" });
    expect(readyz.status).toBe(503);
    expect(readyz.body).toContain("redis unavailable");
    const before = await redis.cli("ZCARD", LIMITER_KEY);
    const answer = await callDatabase();
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "limiter_unavailable", tool: "database" });
    expect(await redis.cli("ZCARD", LIMITER_KEY)).toBe(before);
    expect(upstream.received.filter((r) => r.url.includes("/rows"))).toHaveLength(1);
  });

  it("fails closed without credentials against a Redis that requires them", async () => {
    const gw = gateway([]);
    await gw.waitFor("listening");
    const answer = await callDatabase();
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "limiter_unavailable" });
  });

  it("refuses to start (exit 2) when the file is missing, not JSON, or lacks a field, without printing its text", async () => {
    const cases = [
      [join(dir, "absent.json"), /--redis-credentials-file: cannot read .*absent\.json \(ENOENT\)/],
      [file("bad.json", `password=${gatewayPassword}`), /--redis-credentials-file: .*bad\.json is not JSON/],
      [file("partial.json", JSON.stringify({ password: gatewayPassword })), /--redis-credentials-file: .*partial\.json must hold a JSON object with non-empty string fields username and password/],
    ] as const;
    for (const [path, message] of cases) {
      const gw = gateway(["--redis-credentials-file", path]);
      expect(await gw.exited).toBe(2);
      expect(gw.stderr).toMatch(message);
      expect(gw.stderr).not.toContain(gatewayPassword);
      expect(gw.stderr).not.toContain("listening");
    }
  });
});
