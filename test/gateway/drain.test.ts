/**
 * Graceful drain of the real programs (the bundle, as a container runs it). The gateway: a
 * streamed upstream answer in flight at SIGTERM reaches the agent whole, `/readyz` answers 503
 * meanwhile, a new connection is refused, and the process exits 0 once the stream has ended.
 * `rapidclaw proxy-events`: an alert whose delivery must be retried at SIGTERM is still delivered
 * before it exits 0. Upstream and receiver hold their answers at gates the test opens, so
 * nothing here depends on timing.
 */
import { createServer, type Server } from "node:https";
import { createServer as createHttpServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { appendFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GATEWAY_BUNDLE_PATH } from "../../src/constructs/gateway-bundle";
import { AlertSeverity, WebhookFormat } from "../../src/model/types";
import { skipLoudly } from "../e2e/support/prerequisites";
import { until } from "../support/webhook-receiver";
import { gatewayScenario } from "./fixture";
import { CliProcess } from "./support/cli";
import { ROLE_ADDRESSES, withTestListeners, writeKeys } from "./support/harness";
import { call, untilReady } from "./support/net";
import { missingRedis, TestRedis } from "./support/redis";
import { selfSignedCertificate } from "./support/upstream";

const skip = skipLoudly("graceful drain of the bundled gateway", missingRedis());
const BUNDLE = join(__dirname, "..", "..", GATEWAY_BUNDLE_PATH);
const CHUNKS = 6;

/** Stops what a test started, whatever part of it got started. */
async function stopAll(program: CliProcess | undefined, server: Server | import("node:http").Server | undefined, redis: TestRedis | undefined, dir: string): Promise<void> {
  await program?.stop();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await redis?.kill();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
}

describe.skipIf(skip)("the gateway on SIGTERM", () => {
  let redis: TestRedis;
  let upstream: Server;
  let openGate: () => void = () => {};
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  let gateway: CliProcess;
  let rolePort = 0;
  let adminPort = 0;
  let dir = "";

  beforeAll(async () => {
    redis = await TestRedis.start();
    const certificate = selfSignedCertificate(["search.tools.test"]);
    // A model-style streamed answer: the first chunk at once, the rest (about 1 s) once the gate opens.
    upstream = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: chunk 0\n\n");
      void gate.then(async () => {
        for (let i = 1; i < CHUNKS; i++) {
          await new Promise((r) => setTimeout(r, 200));
          res.write(`data: chunk ${i}\n\n`);
        }
        res.end();
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const listening = await withTestListeners(gatewayScenario());
    rolePort = listening.rolePort;
    const written = writeKeys(listening.spec);
    dir = written.dir;
    const config = join(dir, "firewall.json");
    writeFileSync(config, JSON.stringify(listening.spec));
    gateway = new CliProcess([
      "gateway", "--config", config, "--key-dir", dir, "--redis", redis.url, "--listen-host", "127.0.0.1", "--admin-port", "0", "--admin-host", "127.0.0.1",
      "--upstream-address", `web_search=127.0.0.1:${(upstream.address() as { port: number }).port}`, "--upstream-ca", certificate.certFile, "--drain-timeout-sec", "20",
    ], { bundle: BUNDLE });
    await gateway.waitFor("listening");
    adminPort = Number(/admin on [\d.]+:(\d+)/.exec(gateway.stderr)![1]);
    await untilReady(adminPort);
  }, 60_000);

  afterAll(async () => {
    openGate();
    await stopAll(gateway, upstream, redis, dir);
  });

  it("lets the stream in flight finish whole, answers /readyz 503 and refuses new connections meanwhile, then exits 0", async () => {
    const { listener } = ROLE_ADDRESSES.research_agent;
    // Keep-alive, as an agent's HTTP client is: the drain must still end this connection after the answer.
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      request({ host: listener, port: rolePort, path: "/tools/web_search/stream", headers: { connection: "keep-alive" } }, resolve).on("error", reject).end();
    });
    expect(response.statusCode).toBe(200);
    let body = "";
    const ended = new Promise<void>((resolve, reject) => {
      response.setEncoding("utf8");
      response.on("data", (d: string) => (body += d));
      response.on("end", resolve);
      response.on("error", reject);
      response.on("aborted", () => reject(new Error(`stream cut after: ${JSON.stringify(body)}`)));
    });
    await new Promise<void>((resolve) => response.once("data", () => resolve()));

    process.kill(gateway.pid!, "SIGTERM");
    await gateway.waitFor("draining");
    const ready = await call({ host: "127.0.0.1", port: adminPort, path: "/readyz" });
    expect([ready.status, ready.body]).toEqual([503, "not ready: draining\n"]);
    await expect(call({ host: listener, port: rolePort, path: "/tools/web_search/new" })).rejects.toMatchObject({ code: "ECONNREFUSED" });

    openGate();
    await ended;
    expect(body).toBe(Array.from({ length: CHUNKS }, (_, i) => `data: chunk ${i}\n\n`).join(""));
    expect(await gateway.exited).toBe(0);
    expect(gateway.stderr).toContain("drained (all work in flight finished; alert deliveries flushed)");
  }, 60_000);
});

describe.skipIf(skip)("proxy-events on SIGTERM", () => {
  let redis: TestRedis;
  let receiver: import("node:http").Server;
  const received: string[] = [];
  let held: ServerResponse | undefined;
  let reader: CliProcess;
  let dir = "";

  beforeAll(async () => {
    redis = await TestRedis.start();
    // The first delivery is held until the test lets it fail (503); the retry is accepted.
    receiver = createHttpServer((req, res) => {
      let body = "";
      req.setEncoding("utf8").on("data", (d: string) => (body += d)).on("end", () => {
        received.push(body);
        if (received.length === 1) held = res;
        else res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const spec = gatewayScenario({
      monitoring: {
        networkBlocked: { count: 1, windowSec: 60, severity: AlertSeverity.CRITICAL },
        webhooks: [{ severity: AlertSeverity.CRITICAL, format: WebhookFormat.JSON, urlEnv: "DRAIN_TEST_WEBHOOK_URL" }],
      },
    });
    dir = writeKeys(spec).dir;
    const config = join(dir, "firewall.json");
    writeFileSync(config, JSON.stringify(spec));
    writeFileSync(join(dir, "access.log"), "");
    reader = new CliProcess(["proxy-events", "--config", config, "--log", join(dir, "access.log"), "--redis", redis.url, "--admin-port", "0", "--admin-host", "127.0.0.1", "--drain-timeout-sec", "20"], {
      bundle: BUNDLE,
      env: { DRAIN_TEST_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook` },
    });
    await reader.waitFor("following");
  }, 60_000);

  afterAll(async () => {
    if (held !== undefined && !held.headersSent) held.writeHead(503).end();
    await stopAll(reader, receiver, redis, dir);
  });

  it("answers /readyz 503, retries the alert delivery still queued until it is delivered, then exits 0", async () => {
    const adminPort = Number(/admin on [\d.]+:(\d+)/.exec(reader.stderr)![1]);
    appendFileSync(join(dir, "access.log"), `${JSON.stringify({ ts: new Date().toISOString(), event: "network_blocked", client: "172.30.0.11", role: "research_agent", method: "CONNECT", host: "x.example", port: "443", status: 403, result: "TCP_DENIED", bytes: 0 })}\n`);
    await until("the first delivery attempt", () => held !== undefined);

    process.kill(reader.pid!, "SIGTERM");
    await reader.waitFor("draining");
    const ready = await call({ host: "127.0.0.1", port: adminPort, path: "/readyz" });
    expect([ready.status, ready.body]).toEqual([503, "not ready: draining\n"]);

    held!.writeHead(503).end();
    expect(await reader.exited).toBe(0);
    expect(received).toHaveLength(2);
    expect(JSON.parse(received[1])).toMatchObject({ status: "firing", rule: "network_blocked" });
    expect(reader.stderr).toContain("drained (all work in flight finished; alert deliveries flushed)");
  }, 60_000);
});
