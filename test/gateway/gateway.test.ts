import { rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { Agent } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import { accessAllows } from "../../src/model/validate";
import { ToolAccess, type FirewallSpecProps } from "../../src/model/types";
import { gatewayScenario } from "./fixture";
import { ROLE_ADDRESSES, rotateKey, startGatewayEnvironment, startTestGateway, stopGatewayEnvironment, type TestGateway } from "./support/harness";
import { answerText, call, type Answer } from "./support/net";
import { missingRedis, TestRedis } from "./support/redis";
import { TestUpstream, type TestCertificate } from "./support/upstream";

const skip = skipLoudly("tool gateway against real Redis and HTTPS upstreams", missingRedis());

/**
 * The reference scenario with an EXECUTE operation on every proxied tool and limits no matrix call
 * reaches: tools' rate limits raised, roles' task limits (and their hourly role windows) left out.
 */
function matrixScenario(): FirewallSpecProps {
  const spec = gatewayScenario();
  const roles = Object.fromEntries(Object.entries(spec.roles).map(([name, role]) => [name, { ...role, limits: undefined }]));
  const tools = Object.fromEntries(Object.entries(spec.tools).map(([name, tool]) => [name, {
    ...tool,
    executeOperations: tool.executeOperations ?? [{ method: "POST", path: "/exec" }],
    rateLimit: tool.rateLimit === undefined ? undefined : { maxCalls: 10_000, windowSec: 60 },
  }]));
  return { ...spec, roles, tools };
}

const ROLES = Object.keys(ROLE_ADDRESSES);
const ACCESSES = [ToolAccess.READ, ToolAccess.WRITE, ToolAccess.EXECUTE];

describe.skipIf(skip)("tool gateway", () => {
  let redis: TestRedis;
  let certificate: TestCertificate;
  let upstream: TestUpstream;
  let gw: TestGateway;
  const spec = matrixScenario();
  /** Every byte the agents received; scanned for key values at the end. */
  const captured: string[] = [];
  const keep = (answer: Answer) => { captured.push(answerText(answer)); return answer; };
  const asRole = (role: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    call({ host: ROLE_ADDRESSES[role].listener, port: gw.rolePort, path, ...init }).then(keep);
  const fromRole = (role: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    call({ host: "127.0.0.1", port: gw.sharedPort, from: ROLE_ADDRESSES[role].source, path, ...init }).then(keep);
  const check = (role: string, tool: string, access: string) => asRole(role, "/v1/check", { method: "POST", body: JSON.stringify({ tool, access }) });

  beforeAll(async () => {
    ({ redis, certificate, upstream, gw } = await startGatewayEnvironment(spec));
  });

  afterAll(async () => {
    await stopGatewayEnvironment({ gw, upstream, redis });
  });

  it("decides the whole role x tool x access matrix the same through the proxy and the check endpoint", async () => {
    for (const role of ROLES) {
      for (const tool of Object.keys(spec.tools)) {
        const granted = spec.roles[role].tools?.[tool] ?? ToolAccess.DENY;
        for (const access of ACCESSES) {
          const allowed = accessAllows(granted, access);
          const before = upstream.received.length;
          const method = access === ToolAccess.READ ? "GET" : "POST";
          const path = access === ToolAccess.EXECUTE ? (tool === "send_email" ? "/v3/mail/send" : "/exec") : "/item";
          const proxied = await asRole(role, `/tools/${tool}${path}`, { method, body: method === "POST" ? "{}" : undefined });
          const decided = await check(role, tool, access);
          const what = `${role} ${access} ${tool}`;
          if (allowed) {
            expect(proxied.status, what).toBe(200);
            expect(decided.status, what).toBe(200);
            expect(JSON.parse(decided.body)).toEqual({ allowed: true, tool, agent_role: role, access });
            expect(upstream.received.length, what).toBe(before + 1);
            const seen = upstream.received[before];
            expect(seen.method).toBe(method);
            expect(seen.url).toBe(`${new URL(spec.tools[tool].upstream!).pathname.replace(/\/$/, "")}${path}`);
            expect(seen.headers.host).toBe(new URL(spec.tools[tool].upstream!).host);
          } else {
            const refusal = { error: "permission_denied", tool, agent_role: role, required: access, granted };
            expect(proxied.status, what).toBe(403);
            expect(JSON.parse(proxied.body), what).toEqual(refusal);
            expect(decided.status, what).toBe(403);
            expect(JSON.parse(decided.body), what).toEqual(refusal);
            expect(upstream.received.length, `${what}: nothing forwarded`).toBe(before);
          }
        }
      }
    }
    const denials = gw.events.filter((e) => e.event_type === "permission_denied");
    expect(denials.length).toBeGreaterThan(0);
    expect(denials[0]).toMatchObject({ tool: expect.any(String), agent_role: expect.any(String), details: { required: expect.any(String), granted: expect.any(String) } });
    expect(denials.every((e) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(e.timestamp))).toBe(true);
  });

  it("tells roles apart by source network on a shared listener, and refuses unknown callers", async () => {
    expect((await fromRole("customer_support", "/tools/ticket_system/x", { method: "POST", body: "{}" })).status).toBe(200);
    expect((await fromRole("research_agent", "/tools/ticket_system/x", { method: "POST", body: "{}" })).status).toBe(403);
    const before = upstream.received.length;
    const stranger = keep(await call({ host: "127.0.0.1", port: gw.sharedPort, from: "127.0.0.99", path: "/tools/knowledge_base/x" }));
    expect(stranger.status).toBe(403);
    expect(JSON.parse(stranger.body).error).toBe("unknown_caller");
    expect(upstream.received.length).toBe(before);
    expect(gw.events.at(-1)).toMatchObject({ event_type: "unknown_caller", tool: null, agent_role: null });
  });

  it("trusts no identity header, and strips the agent's own credentials before injecting the tool's key", async () => {
    const spoof = { "x-role": "customer_support", "x-agent-role": "customer_support", "x-forwarded-for": ROLE_ADDRESSES.customer_support.source, forwarded: "for=127.0.0.17" };
    expect((await asRole("research_agent", "/tools/send_email/v3/mail/send", { method: "POST", body: "{}", headers: spoof })).status).toBe(403);
    expect((await call({ host: "127.0.0.1", port: gw.sharedPort, from: "127.0.0.99", path: "/tools/knowledge_base/x", headers: spoof }).then(keep)).status).toBe(403);

    const before = upstream.received.length;
    const own = { authorization: "Bearer agent-made-this-up", "x-api-key": "agent-key", cookie: "session=agent", "proxy-authorization": "Basic eA==" };
    expect((await asRole("research_agent", "/tools/web_search/q?x=1", { headers: own })).status).toBe(200);
    expect((await asRole("customer_support", "/tools/send_email/v3/mail/send", { method: "POST", body: "{}", headers: own })).status).toBe(200);
    expect((await asRole("customer_support", "/tools/knowledge_base/a", { headers: own })).status).toBe(200);
    const [search, mail, kb] = upstream.received.slice(before);
    expect(search.headers["x-api-key"]).toBe(gw.keys.web_search);
    expect(search.headers.authorization).toBeUndefined();
    expect(mail.headers.authorization).toBe(`Bearer ${gw.keys.send_email}`);
    expect(mail.headers["x-api-key"]).toBeUndefined();
    for (const seen of [search, mail, kb]) {
      expect(seen.headers.cookie).toBeUndefined();
      expect(seen.headers["proxy-authorization"]).toBeUndefined();
    }
    expect(kb.headers.authorization).toBeUndefined();
    expect(kb.headers["x-api-key"]).toBeUndefined();
  });

  it("limits exactly, answers 429 with Retry-After and the refusal body, and counts checks and calls together", async () => {
    const limited = { ...spec, tools: { ...spec.tools, database: { ...spec.tools.database, rateLimit: { maxCalls: 3, windowSec: 30 } } } };
    await redis.cli("DEL", "rl:{research_agent:database}");
    const small = await startTestGateway(limited, redis.url, upstream, certificate);
    try {
      const go = (i: number) => (i % 2 === 0
        ? call({ host: ROLE_ADDRESSES.research_agent.listener, port: small.rolePort, path: "/tools/database/rows" })
        : call({ host: ROLE_ADDRESSES.research_agent.listener, port: small.rolePort, path: "/v1/check", method: "POST", body: JSON.stringify({ tool: "database", access: "READ" }) })).then(keep);
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => go(i)));
      expect(answers.filter((a) => a.status === 200)).toHaveLength(3);
      const refused = answers.filter((a) => a.status === 429);
      expect(refused).toHaveLength(7);
      for (const answer of refused) {
        const body = JSON.parse(answer.body);
        expect(body).toMatchObject({ error: "rate_limited", tool: "database", retry_after_sec: expect.any(Number), message: expect.stringContaining("at most 3 calls") });
        expect(body.retry_after_sec).toBeGreaterThanOrEqual(1);
        expect(body.retry_after_sec).toBeLessThanOrEqual(30);
        expect(answer.headers["retry-after"]).toBe(String(body.retry_after_sec));
      }
      expect(small.events.filter((e) => e.event_type === "rate_limited")).toHaveLength(7);
      expect(await redis.cli("ZCARD", "rl:{research_agent:database}")).toBe("3\n");
      const metrics = keep(await call({ host: "127.0.0.1", port: small.gateway.admin.port, path: "/metrics" }));
      expect(metrics.body).toContain('rapidclaw_firewall_events_total{event_type="rate_limited",role="research_agent",tool="database"} 7');
      expect(metrics.body).toContain('rapidclaw_gateway_decisions_total{outcome="allowed",role="research_agent",tool="database"} 3');
      expect(metrics.body).toMatch(/rapidclaw_gateway_upstream_duration_seconds_count\{tool="database"\} [1-9]/);
    } finally {
      await small.gateway.stop();
    }
  });

  it("answers 404 on the proxy path of a tool without upstream, 503 without its key, 502 when its upstream is down", async () => {
    const gone = await TestUpstream.start(certificate);
    await gone.stop();
    const changed = {
      ...spec,
      tools: {
        ...spec.tools,
        knowledge_base: { permissions: [] },
        database: { ...spec.tools.database, upstream: "https://db.tools.test" },
      },
    };
    const other = await startTestGateway(changed, redis.url, upstream, certificate, {}, new Map([["database", gone.port]]));
    try {
      const as = (role: string, path: string, init: { method?: string; body?: string } = {}) =>
        call({ host: ROLE_ADDRESSES[role].listener, port: other.rolePort, path, ...init }).then(keep);
      const before = upstream.received.length;
      expect((await as("research_agent", "/tools/knowledge_base/x")).status).toBe(404);
      expect((await as("research_agent", "/v1/check", { method: "POST", body: JSON.stringify({ tool: "knowledge_base", access: "READ" }) })).status).toBe(200);
      const down = await as("research_agent", "/tools/database/rows");
      expect(down.status).toBe(502);
      expect(JSON.parse(down.body)).toMatchObject({ error: "upstream_error", tool: "database" });
      const admin = (path: string) => call({ host: "127.0.0.1", port: other.gateway.admin.port, path }).then(keep);
      expect((await admin("/healthz")).status).toBe(200);
      expect((await admin("/readyz")).status).toBe(200);
      rmSync(join(other.keyDir, "web_search"));
      const deadline = Date.now() + 5_000;
      let answer = await as("research_agent", "/tools/web_search/q");
      while (answer.status === 200 && Date.now() < deadline) answer = await as("research_agent", "/tools/web_search/q");
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body)).toMatchObject({ error: "key_unavailable", tool: "web_search" });
      const readyz = await admin("/readyz");
      expect(readyz.status).toBe(503);
      expect(readyz.body).toContain("keys not loaded: web_search");
      expect(upstream.received.slice(before).every((r) => r.headers.host === "search.tools.test")).toBe(true);
      expect(other.events.map((e) => e.event_type)).toEqual(expect.arrayContaining(["unknown_tool", "upstream_error", "key_unavailable"]));
    } finally {
      await other.gateway.stop();
    }
  });

  it("refuses bad requests, forwards nothing and stays up", async () => {
    const before = upstream.received.length;
    const eventsBefore = gw.events.length;
    for (const path of [
      "/tools/nope/x",
      "/tools/web_search/../send_email/v3/mail/send",
      "/tools/web_search/%2e%2e/send_email",
      "/tools/web_search/%2E%2e%2Fsend_email",
      "/tools/web_search%2f..%2fsend_email",
      "/tools/web_search/..%5csend_email",
      "/tools/web_search//x",
      "/elsewhere",
    ]) {
      const answer = await asRole("research_agent", path);
      expect([400, 404], path).toContain(answer.status);
    }
    const raw = (text: string, waitMs = 3_000, role = "research_agent") => new Promise<string>((resolve, reject) => {
      const socket = connect({ host: ROLE_ADDRESSES[role].listener, port: gw.rolePort });
      let out = "";
      socket.on("data", (d) => (out += d));
      socket.on("close", () => resolve(out));
      socket.on("error", reject);
      socket.setTimeout(waitMs, () => { socket.destroy(); reject(new Error(`no answer within ${waitMs} ms: ${JSON.stringify(text.slice(0, 60))}`)); });
      socket.write(text);
    });
    const smuggled = await raw("POST /tools/ticket_system/x HTTP/1.1\r\nHost: g\r\nContent-Length: 36\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /tools/send_email/ HTTP/1.1\r\n\r\n");
    expect(smuggled).toMatch(/^HTTP\/1\.1 400/);
    const doubleLength = await raw("POST /tools/ticket_system/x HTTP/1.1\r\nHost: g\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}");
    expect(doubleLength).toMatch(/^HTTP\/1\.1 400/);
    const bigHead = await raw(`GET /tools/knowledge_base/x HTTP/1.1\r\nHost: g\r\nX-Filler: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(bigHead).toMatch(/^HTTP\/1\.1 431/);
    // ticket_system: customer_support may write it, so only the size refuses these.
    const bigBody = await raw(`POST /tools/ticket_system/x HTTP/1.1\r\nHost: g\r\nContent-Length: ${1024 * 1024}\r\n\r\n${"a".repeat(1000)}`, 3_000, "customer_support");
    expect(bigBody).toMatch(/^HTTP\/1\.1 413/);
    const chunk = `${(32 * 1024).toString(16)}\r\n${"b".repeat(32 * 1024)}\r\n`;
    const bigChunked = await raw(`POST /tools/ticket_system/x HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(3)}`, 3_000, "customer_support");
    expect(bigChunked).toMatch(/^HTTP\/1\.1 413/);
    // A slow client that never finishes its head is cut off by the headers timeout.
    const slow = await raw("GET /tools/knowledge_base/x HTTP/1.1\r\nHost: g\r\nX-Slow: ", 6_000);
    expect(slow === "" || /^HTTP\/1\.1 408/.test(slow)).toBe(true);

    expect(upstream.received.length, "nothing forwarded").toBe(before);
    const refusals = gw.events.slice(eventsBefore).map((e) => e.event_type);
    expect(refusals).toContain("unknown_tool");
    expect(refusals.filter((t) => t === "bad_request").length).toBeGreaterThanOrEqual(11);
    expect((await asRole("research_agent", "/tools/knowledge_base/still-up")).status).toBe(200);
  });

  it("picks up a rotated key under load without failing a call, and uses it right after", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const answers: Array<Answer & { rotated: boolean }> = [];
    let rotated = false;
    let running = true;
    const loop = async () => {
      while (running) {
        const startedAfterRotation = rotated;
        const answer = keep(await call({ host: ROLE_ADDRESSES.research_agent.listener, port: gw.rolePort, path: "/tools/web_search/q", agent }));
        answers.push({ ...answer, rotated: startedAfterRotation });
      }
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const loops = Array.from({ length: 16 }, loop);
    while (answers.length < 32) await sleep(10);
    const newKey = `${gw.keys.web_search}_rotated`;
    const from = upstream.received.length;
    rotateKey(gw.keyDir, "web_search", newKey);
    rotated = true;
    gw.keys.web_search_rotated = newKey;
    const deadline = Date.now() + 5_000;
    while (!upstream.received.slice(from).some((r) => r.headers["x-api-key"] === newKey) && Date.now() < deadline) await sleep(10);
    const seenAt = answers.length;
    while (answers.length < seenAt + 32) await sleep(10);
    running = false;
    await Promise.all(loops);
    agent.destroy();
    expect(answers.filter((a) => a.rotated).length).toBeGreaterThanOrEqual(32);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const after = upstream.received.length;
    for (let i = 0; i < 5; i++) expect((await asRole("research_agent", "/tools/web_search/q")).status).toBe(200);
    expect(upstream.received.slice(after).map((r) => r.headers["x-api-key"])).toEqual(Array(5).fill(newKey));
  });

  it("fails closed when Redis stops or dies under load, fails open only where asked, and recovers by itself", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const answers: Array<Answer & { phase: string }> = [];
    let phase = "up";
    let running = true;
    const loop = async (i: number) => {
      while (running) {
        const tool = i % 4 === 0 ? "ticket_system" : "web_search";
        const access = tool === "ticket_system" ? "WRITE" : "READ";
        const role = tool === "ticket_system" ? "customer_support" : "research_agent";
        const at = phase;
        const answer = await call({ host: ROLE_ADDRESSES[role].listener, port: gw.rolePort, path: "/v1/check", method: "POST", body: JSON.stringify({ tool, access }), agent, giveUpMs: 3_000 });
        answers.push({ ...keep(answer), phase: at === phase ? at : "switching" });
      }
    };
    const loops: Promise<void>[] = [];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const readyz = async () => (await call({ host: "127.0.0.1", port: gw.gateway.admin.port, path: "/readyz" }).then(keep)).status;

    expect(await readyz()).toBe(200);
    for (let i = 0; i < 32; i++) loops.push(loop(i));
    await sleep(300);
    phase = "stopped";
    redis.signal("SIGSTOP");
    await sleep(1_000);
    phase = "resuming";
    redis.signal("SIGCONT");
    await sleep(500);
    phase = "killed";
    await redis.kill();
    await sleep(1_000);
    expect(await readyz()).toBe(503);
    phase = "restarted";
    await redis.restart();
    const deadline = Date.now() + 10_000;
    const recovered = () => answers.some((a) => a.phase === "restarted" && a.status === 200 && JSON.parse(a.body).tool === "web_search");
    while (Date.now() < deadline && !recovered()) await sleep(50);
    await sleep(300);
    running = false;
    await Promise.all(loops);
    agent.destroy();

    const inPhase = (p: string) => answers.filter((a) => a.phase === p);
    expect(inPhase("up").length).toBeGreaterThan(0);
    expect(inPhase("up").filter((a) => a.status !== 200).slice(0, 3)).toEqual([]);
    for (const p of ["stopped", "killed"]) {
      expect(inPhase(p).some((a) => a.status === 503), p).toBe(true);
      expect(inPhase(p).some((a) => a.status === 200 && JSON.parse(a.body).tool === "ticket_system"), `${p}: fail-open tool passes`).toBe(true);
      expect(inPhase(p).every((a) => a.status !== 200 || JSON.parse(a.body).tool === "ticket_system"), `${p}: only fail-open tools pass`).toBe(true);
    }
    expect(inPhase("restarted").some((a) => a.status === 200 && JSON.parse(a.body).tool === "web_search")).toBe(true);
    expect(await readyz()).toBe(200);
    const unavailable = gw.events.filter((e) => e.event_type === "limiter_unavailable");
    expect(unavailable.some((e) => e.details.reason === "timeout")).toBe(true);
    expect(unavailable.some((e) => e.details.failed_open === false && e.tool === "web_search")).toBe(true);
    expect(unavailable.some((e) => e.details.failed_open === true && e.tool === "ticket_system")).toBe(true);
    const metrics = keep(await call({ host: "127.0.0.1", port: gw.gateway.admin.port, path: "/metrics" }));
    expect(metrics.body).toMatch(/rapidclaw_gateway_limiter_errors_total\{reason="timeout"\} [1-9]/);
  });

  it("never lets a key value out: responses, events and metrics hold none", async () => {
    const metrics = keep(await call({ host: "127.0.0.1", port: gw.gateway.admin.port, path: "/metrics" }));
    expect(metrics.status).toBe(200);
    const everything = [...captured, ...gw.events.map((e) => JSON.stringify(e))].join("\n");
    expect(everything.length).toBeGreaterThan(10_000);
    for (const key of Object.values(gw.keys)) expect(everything.includes(key), "a key value leaked").toBe(false);
  });
});
