import { connect } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import type { FirewallSpecProps } from "../../src/model/types";
import { gatewayScenario } from "./fixture";
import { ROLE_ADDRESSES, rotateKey, startTestGateway, type TestGateway } from "./support/harness";
import { call, type Answer } from "./support/net";
import { httpAnswer, RawUpstream, type RawAnswer, type RawRequest } from "./support/raw-upstream";
import { missingRedis, TestRedis } from "./support/redis";
import { selfSignedCertificate, type TestCertificate } from "./support/upstream";

const skip = skipLoudly("gateway relaying upstream answers, against real Redis and a raw TLS upstream", missingRedis());

/** A key with characters that URL encoding changes, so every echoed encoding differs from the raw key. */
const KEY = "sk-live/AbC+dE=fG&hI jK~lM!nO*pQ'(rS)tU_vW-xY.z0123456789";
const FORM = new URLSearchParams({ k: KEY }).toString().slice(2);
const base64 = (prefix: string) => Buffer.from(`${prefix}${KEY}`).toString("base64");

/** Every encoding the upstream echoes below, as the agent must never see it. */
const ECHOED = {
  raw: KEY,
  uri: encodeURIComponent(KEY),
  uriLower: encodeURIComponent(KEY).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
  form: FORM,
  base64At0: base64(""),
  base64At1: base64("Bearer "),
  base64At2: base64("ab"),
  base64url: Buffer.from(`x${KEY}`).toString("base64url"),
};

/** True when a 16-character run of some echoed encoding of the key is in `text`. */
function leaks(text: string): string | undefined {
  for (const [name, encoded] of Object.entries(ECHOED)) {
    for (let at = 0; at + 16 <= encoded.length; at++) if (text.includes(encoded.slice(at, at + 16))) return name;
  }
  return undefined;
}

/** A chunked answer with the key in its reason phrase and in a trailer too. */
const chunked = (key: string, ...parts: string[]) => [
  `HTTP/1.1 200 ${key}\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\ntrailer: x-trail\r\n\r\n`,
  ...parts.map((part) => `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`),
  `0\r\nx-trail: ${key}\r\n\r\n`,
];

/** The raw upstream's answers, by path below the tool's upstream (`/api`). */
function answer(request: RawRequest): RawAnswer {
  const sent = request.headers["x-api-key"] ?? "";
  switch (request.target.replace(/^\/api/, "").split("?")[0]) {
    case "/echo": return { chunks: [httpAnswer(200, JSON.stringify({ headers: request.headers }), { "content-type": "application/json" })], then: "keep" };
    case "/401": return { chunks: [httpAnswer(401, `{"error":{"message":"Incorrect API key provided: ${sent}"}}`)], then: "keep" };
    case "/split": return { chunks: chunked(sent, `{"key":"${sent.slice(0, 11)}`, `${sent.slice(11, 30)}`, `${sent.slice(30)}"}`), gapMs: 30, then: "keep" };
    case "/header": return { chunks: [httpAnswer(200, "ok", { "x-echo": sent, "www-authenticate": `Bearer error="${encodeURIComponent(sent)}"`, "set-cookie": "session=abc; HttpOnly" })], then: "keep" };
    case "/encoded": return { chunks: [httpAnswer(200, `u=${encodeURIComponent(sent)}&l=${ECHOED.uriLower}&f=${new URLSearchParams({ k: sent }).toString().slice(2)}&b0=${ECHOED.base64At0}&b1=${ECHOED.base64At1}&b2=${ECHOED.base64At2}&bu=${ECHOED.base64url}`)], then: "keep" };
    case "/gzip": return { chunks: [httpAnswer(200, gzipSync(`{"echo":"${sent}"}`), { "content-encoding": "gzip" })], then: "keep" };
    case "/zstd": return { chunks: [httpAnswer(200, "(zstd bytes)", { "content-encoding": "zstd" })], then: "keep" };
    case "/status-099": return { chunks: ["HTTP/1.1 099 Odd\r\ncontent-length: 2\r\n\r\nhi"], then: "close" };
    case "/status-1000": return { chunks: ["HTTP/1.1 1000 Odd\r\ncontent-length: 2\r\n\r\nhi"], then: "close" };
    case "/status-600": return { chunks: ["HTTP/1.1 600 Odd\r\ncontent-length: 2\r\n\r\nhi"], then: "close" };
    case "/header-ctl": return { chunks: ["HTTP/1.1 200 OK\r\nx-bad: a\x7fb\r\ncontent-length: 2\r\n\r\nhi"], then: "close" };
    case "/reset-mid-body": return { chunks: ["HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n", "only part"], gapMs: 20, then: "destroy" };
    case "/endless": return { chunks: ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n", ...Array.from({ length: 40 }, () => `10000\r\n${"x".repeat(0x10000)}\r\n`)], then: "close" };
    case "/silent": return { chunks: [], then: "hold" };
    case "/silent-body": return { chunks: ["HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhal"], then: "hold" };
    default: return { chunks: [httpAnswer(200, "fine")], then: "keep" };
  }
}

/** The scenario with limits no test reaches. */
function spec(): FirewallSpecProps {
  const base = gatewayScenario();
  return { ...base, tools: { ...base.tools, web_search: { ...base.tools.web_search, rateLimit: { maxCalls: 100_000, windowSec: 60 } } } };
}

describe.skipIf(skip)("what the gateway relays from an upstream", () => {
  let redis: TestRedis;
  let certificate: TestCertificate;
  let upstream: RawUpstream;
  let gw: TestGateway;
  const search = (path: string) => call({ host: ROLE_ADDRESSES.research_agent.listener, port: gw.rolePort, path: `/tools/web_search${path}` });
  const stillServing = async () => expect((await search("/fine")).status).toBe(200);
  const reflected = () => gw.events.filter((e) => e.event_type === "key_reflected");

  beforeAll(async () => {
    redis = await TestRedis.start();
    certificate = selfSignedCertificate(["search.tools.test", "db.tools.test", "kb.tools.test"]);
    upstream = await RawUpstream.start(certificate, answer);
    gw = await startTestGateway(spec(), redis.url, upstream, certificate, {}, new Map(), { env: {} }, { upstreamTimeoutMs: 1_000, maxResponseBytes: 1024 * 1024 });
    rotateKey(gw.keyDir, "web_search", KEY);
    const deadline = Date.now() + 10_000;
    while (upstream.received.at(-1)?.headers["x-api-key"] !== KEY && Date.now() < deadline) await search("/fine");
    expect(upstream.received.at(-1)?.headers["x-api-key"]).toBe(KEY);
  });

  afterAll(async () => {
    await gw?.gateway.stop();
    await upstream?.stop();
    await redis?.kill();
  });

  /** Asserts the answer holds no encoding of the key and a `key_reflected` event was raised for it. */
  function scrubbedOnce(answer: Answer, eventsBefore: number): void {
    expect(leaks(`${JSON.stringify(answer.headers)}\n${answer.body}`)).toBeUndefined();
    expect(reflected().length).toBe(eventsBefore + 1);
    expect(reflected().at(-1)).toMatchObject({ tool: "web_search", agent_role: "research_agent", details: { scrubbed: expect.any(Number) } });
  }

  it("writes over the key an echo endpoint returns, at the same length, with a key_reflected event", async () => {
    const before = reflected().length;
    const answer = await search("/echo");
    expect(answer.status).toBe(200);
    expect(upstream.received.at(-1)?.headers["accept-encoding"]).toBe("identity");
    scrubbedOnce(answer, before);
    // Same length: Content-Length still matches, and the JSON still parses with the key's place kept.
    expect(Number(answer.headers["content-length"])).toBe(Buffer.byteLength(answer.body));
    expect(JSON.parse(answer.body).headers["x-api-key"]).toBe("*".repeat(KEY.length));
    const metrics = await call({ host: "127.0.0.1", port: gw.gateway.admin.port, path: "/metrics" });
    expect(metrics.body).toMatch(/rapidclaw_firewall_events_total\{event_type="key_reflected",role="research_agent",tool="web_search"\} [1-9]/);
  });

  it("writes over the key a 401 body quotes, and a key split across chunks", async () => {
    const before = reflected().length;
    const refused = await search("/401");
    expect(refused.status).toBe(401);
    expect(refused.body).toContain("Incorrect API key provided: ***");
    scrubbedOnce(refused, before);
    const split = await search("/split");
    expect(split.status).toBe(200);
    expect(JSON.parse(split.body)).toEqual({ key: "*".repeat(KEY.length) });
    scrubbedOnce(split, before + 1);
  });

  it("writes over the key in response headers and drops the upstream's cookies", async () => {
    const before = reflected().length;
    const answer = await search("/header");
    expect(answer.status).toBe(200);
    expect(answer.headers["x-echo"]).toBe("*".repeat(KEY.length));
    expect(answer.headers["set-cookie"]).toBeUndefined();
    scrubbedOnce(answer, before);
  });

  it("writes over URL-encoded (both hex cases, and form encoding) and base64 and base64url echoes at every offset", async () => {
    const before = reflected().length;
    const answer = await search("/encoded");
    expect(answer.status).toBe(200);
    scrubbedOnce(answer, before);
    expect(reflected().at(-1)?.details.scrubbed).toBeGreaterThanOrEqual(7);
  });

  it("decodes an answer compressed against its request, to scrub it; refuses an encoding it cannot read", async () => {
    const before = reflected().length;
    const answer = await search("/gzip");
    expect(answer.status).toBe(200);
    expect(answer.headers["content-encoding"]).toBeUndefined();
    expect(JSON.parse(answer.body)).toEqual({ echo: "*".repeat(KEY.length) });
    scrubbedOnce(answer, before);
    const zstd = await search("/zstd");
    expect(zstd.status).toBe(502);
    expect(gw.events.at(-1)).toMatchObject({ event_type: "upstream_error", details: { code: "ERR_UPSTREAM_ENCODING" } });
  });

  it.each(["/status-099", "/status-1000", "/status-600", "/header-ctl"])("answers 502 to an upstream's %s and keeps serving", async (path) => {
    const answer = await search(path);
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "upstream_error", tool: "web_search" });
    await stillServing();
  });

  it("answers 502 when the upstream sends no head in time; cuts off a body that stops, resets or never ends; keeps serving", async () => {
    const silent = await search("/silent");
    expect(silent.status).toBe(502);
    expect(gw.events.at(-1)).toMatchObject({ event_type: "upstream_error", details: { code: "UND_ERR_HEADERS_TIMEOUT" } });
    for (const path of ["/silent-body", "/reset-mid-body", "/endless"]) {
      // The status was already sent: the agent sees the answer cut off (an error), never a whole one.
      const cut = await search(path).then((a) => a, (error: NodeJS.ErrnoException) => error);
      expect(cut, path).toBeInstanceOf(Error);
      expect(String(cut), path).not.toMatch(/no answer/);
      await stillServing();
    }
  });

  it("checks the upstream's certificate against the upstream's own name, not the address connected to", async () => {
    // The test certificate names search, db and kb only; tickets.tools.test is reached at the same address.
    const before = upstream.received.length;
    const answer = await call({ host: ROLE_ADDRESSES.customer_support.listener, port: gw.rolePort, path: "/tools/ticket_system/x" });
    expect(answer.status).toBe(502);
    expect(gw.events.at(-1)).toMatchObject({ event_type: "upstream_error", tool: "ticket_system", details: { code: "ERR_TLS_CERT_ALTNAME_INVALID" } });
    expect(upstream.received.length).toBe(before);
  });

  it("never lets the key out in anything the agent received, reason phrase and trailers included, read off a raw socket", async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: ROLE_ADDRESSES.research_agent.listener, port: gw.rolePort });
      let text = "";
      socket.on("data", (d) => (text += d.toString("latin1")));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
      socket.write("GET /tools/web_search/split HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(leaks(raw)).toBeUndefined();
  });
});
