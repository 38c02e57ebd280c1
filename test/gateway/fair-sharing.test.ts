import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import { gatewayScenario } from "./fixture";
import { ROLE_ADDRESSES, startTestGateway, type TestGateway } from "./support/harness";
import { call, type Answer } from "./support/net";
import { httpAnswer, RawUpstream } from "./support/raw-upstream";
import { missingRedis, TestRedis } from "./support/redis";
import { selfSignedCertificate, type TestCertificate } from "./support/upstream";

const skip = skipLoudly("fair sharing between roles, against real Redis and a raw TLS upstream", missingRedis());

/** More than the 256 upstream sockets the gateway once shared between all roles. */
const SLOW_CALLS = 300;
const CONNECTIONS_PER_ROLE = 4;
const IN_FLIGHT_PER_ROLE = 8;

/** Resolves once `condition` holds; rejects (failing the test) when it does not within `ms`. */
async function until(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A raw connection to a listener; `closed` settles with what the gateway sent before closing it. */
function openConnection(host: string, port: number): { socket: Socket; closed: Promise<string> } {
  const socket = connect({ host, port });
  const closed = new Promise<string>((resolve) => {
    let text = "";
    socket.on("data", (d) => (text += d.toString("latin1")));
    socket.on("close", () => resolve(text));
    socket.on("error", () => undefined);
  });
  return { socket, closed };
}

/** `promise`'s value, or `timedOut` when it has none within `ms` (a safety net: no assertion is on time). */
function within<T>(promise: Promise<T>, ms: number, timedOut: T): Promise<T> {
  return Promise.race([promise, new Promise<T>((resolve) => setTimeout(() => resolve(timedOut), ms).unref())]);
}

describe.skipIf(skip)("fair sharing between roles and bounded client connections", () => {
  let redis: TestRedis;
  let certificate: TestCertificate;
  let upstream: RawUpstream;
  let gw: TestGateway;
  /** While true, the upstream holds every `/slow` call unanswered. */
  let holdSlow = true;

  beforeAll(async () => {
    redis = await TestRedis.start();
    certificate = selfSignedCertificate(["kb.tools.test"]);
    upstream = await RawUpstream.start(certificate, (request) =>
      request.target === "/slow" && holdSlow ? { chunks: [], then: "hold" } : { chunks: [httpAnswer(200, "fast")], then: "keep" });
    gw = await startTestGateway(gatewayScenario(), redis.url, upstream, certificate, {}, new Map(), { env: {} }, {
      upstreamConnectionsPerRole: CONNECTIONS_PER_ROLE,
      maxCallsInFlightPerRole: IN_FLIGHT_PER_ROLE,
      upstreamTimeoutMs: 60_000,
    });
  });

  afterAll(async () => {
    await gw?.gateway.stop();
    await upstream?.stop();
    await redis?.kill();
  });

  const as = (role: string, path: string, giveUpMs = 30_000) => call({ host: ROLE_ADDRESSES[role].listener, port: gw.rolePort, path: `/tools/knowledge_base${path}`, giveUpMs });

  it("answers another role's call while one role holds more slow calls than its share, and refuses that role's excess with 503 role_busy", async () => {
    const answers: Answer[] = [];
    const slow = Array.from({ length: SLOW_CALLS }, () => as("research_agent", "/slow").then((a) => { answers.push(a); return a; }));
    await until("the slow role filling its connections and being refused the rest", () =>
      upstream.holding === CONNECTIONS_PER_ROLE && answers.length === SLOW_CALLS - IN_FLIGHT_PER_ROLE);
    expect(answers.every((a) => a.status === 503 && JSON.parse(a.body).error === "role_busy")).toBe(true);
    expect(gw.events.filter((e) => e.event_type === "role_busy" && e.agent_role === "research_agent")).toHaveLength(SLOW_CALLS - IN_FLIGHT_PER_ROLE);

    // The other role's call is answered while every slow call of the first role is still held.
    const other = await within(as("customer_support", "/fast"), 10_000, undefined);
    expect(other?.status, "the other role's call was answered").toBe(200);
    expect(upstream.holding).toBe(CONNECTIONS_PER_ROLE);
    expect(answers).toHaveLength(SLOW_CALLS - IN_FLIGHT_PER_ROLE);

    // Released, every call the slow role had in flight (held and queued) is answered.
    holdSlow = false;
    upstream.release();
    const all = await Promise.all(slow);
    expect(all.filter((a) => a.status === 200)).toHaveLength(IN_FLIGHT_PER_ROLE);
    expect((await as("research_agent", "/fast")).status).toBe(200);
  });

  it("closes a connection that never sends a byte after the head timeout, and keeps one whose call waits on the upstream", async () => {
    holdSlow = true;
    const waiting = as("research_agent", "/slow");
    await until("the call reaching the upstream", () => upstream.holding === 1);
    const silent = openConnection(ROLE_ADDRESSES.research_agent.listener, gw.rolePort);
    expect(await within(silent.closed, 10_000, "still open"), "the silent connection was closed, with nothing sent").toBe("");
    holdSlow = false;
    upstream.release();
    expect((await waiting).status).toBe(200);
  });

  it("caps the connections of each listener: one more is closed at once, another listener still serves", async () => {
    const capped = await startTestGateway(gatewayScenario(), redis.url, upstream, certificate, { headersTimeoutMs: 20_000, requestTimeoutMs: 30_000 }, new Map(), { env: {} }, {
      maxConnectionsPerListener: 3,
    });
    try {
      const host = ROLE_ADDRESSES.research_agent.listener;
      const open = Array.from({ length: 3 }, () => openConnection(host, capped.rolePort));
      await Promise.all(open.map(({ socket }) => new Promise((resolve) => socket.once("connect", resolve))));
      open.forEach(({ socket }) => socket.write("GET /tools/knowledge_base/x HTTP/1.1\r\n"));
      const extra = openConnection(host, capped.rolePort);
      expect(await within(extra.closed, 10_000, "still open"), "the fourth connection was closed, with nothing sent").toBe("");
      const other = await call({ host: ROLE_ADDRESSES.customer_support.listener, port: capped.rolePort, path: "/tools/knowledge_base/fast" });
      expect(other.status).toBe(200);
      open[0].socket.destroy();
      await open[0].closed;
      let answer = await call({ host, port: capped.rolePort, path: "/tools/knowledge_base/fast" }).catch(() => undefined);
      for (let tries = 0; answer?.status !== 200 && tries < 50; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        answer = await call({ host, port: capped.rolePort, path: "/tools/knowledge_base/fast" }).catch(() => undefined);
      }
      expect(answer?.status, "a connection is accepted again once one closed").toBe(200);
      open.forEach(({ socket }) => socket.destroy());
    } finally {
      await capped.gateway.stop();
    }
  });
});
