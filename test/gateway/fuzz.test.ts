import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import { gatewayConfigFromSpec, type GatewayConfig } from "../../src/gateway/config";
import { effectivePath } from "../../src/gateway/effective-path";
import { decidePermission, requiredAccess } from "../../src/gateway/permissions";
import { ToolAccess, type FirewallSpecProps } from "../../src/model/types";
import { validateFirewallSpec } from "../../src/model/validate";
import { gatewayScenario } from "./fixture";
import { ROLE_ADDRESSES, rotateKey, startTestGateway, type TestGateway } from "./support/harness";
import { call } from "./support/net";
import { httpAnswer, RawUpstream, type RawAnswer, type RawRequest } from "./support/raw-upstream";
import { missingRedis, TestRedis } from "./support/redis";
import { selfSignedCertificate, type TestCertificate } from "./support/upstream";

const skip = skipLoudly("fuzzing the gateway's upstream answers and client requests, against real Redis and a raw TLS upstream", missingRedis());

const KEY = "sk-fuzz/Zy+Xw=Vu&Ts Rq~Po!Nm*Lk'(Ji)Hg_Fe-Dc.Ba9876543210";
/** The key as an upstream may echo it. */
const ECHOED = [
  KEY,
  encodeURIComponent(KEY),
  encodeURIComponent(KEY).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
  new URLSearchParams({ k: KEY }).toString().slice(2),
  Buffer.from(KEY).toString("base64"),
  Buffer.from(`Bearer ${KEY}`).toString("base64"),
  Buffer.from(`ab${KEY}`).toString("base64url"),
];
const ROLE = "research_agent";
/** Cases per property; each runs in well under a second. */
const RUNS = 120;

/**
 * The echoed encoding a 16-character run of which is in `text`, if any; with `whole`, only an
 * encoding that is there whole (an upstream that damaged its echo of the key transformed the key,
 * which no filter can recognise: the README says so).
 */
function leak(text: string, whole = false): string | undefined {
  for (const encoded of ECHOED) {
    if (whole) { if (text.includes(encoded)) return encoded; continue; }
    for (let at = 0; at + 16 <= encoded.length; at++) if (text.includes(encoded.slice(at, at + 16))) return encoded;
  }
  return undefined;
}

/** Token characters (RFC 9110) and field-value characters Node writes. */
const HEAD = /^HTTP\/1\.1 [1-5]\d\d [^\r\n]*\r\n([!#$%&'*+.^_`|~0-9A-Za-z-]+: [\t\x20-\x7e\x80-\xff]*\r\n)*\r\n/;

/** Sends raw bytes to a listener; settles with what came back (on close, or once answers stop for a while). */
function exchange(host: string, port: number, bytes: Uint8Array): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let text = "";
    let quiet: NodeJS.Timeout | undefined;
    const done = () => { clearTimeout(quiet); clearTimeout(deadline); socket.destroy(); resolve(text); };
    const deadline = setTimeout(done, 6_000);
    socket.on("data", (d) => { text += d.toString("latin1"); clearTimeout(quiet); quiet = setTimeout(done, 1_000); });
    socket.on("close", done);
    socket.on("error", () => undefined);
    socket.write(bytes);
  });
}

/** Byte-level damage: flip, cut or insert at random places. */
const mutations = fc.array(fc.record({ at: fc.nat(), kind: fc.constantFrom("flip", "cut", "insert"), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 3 });
function mutate(bytes: Buffer, damage: ReadonlyArray<{ at: number; kind: string; byte: number }>): Buffer {
  let out = Buffer.from(bytes);
  for (const { at, kind, byte } of damage) {
    const i = out.length === 0 ? 0 : at % out.length;
    if (kind === "flip" && out.length > 0) out[i] = byte;
    else if (kind === "cut") out = out.subarray(0, i);
    else out = Buffer.concat([out.subarray(0, i), Buffer.from([byte]), out.subarray(i)]);
  }
  return out;
}

const tokenish = fc.string({ unit: fc.constantFrom(..."abcxyz-_ :/\t\x00\x7f\xffé".split("")), maxLength: 12 });

/** An upstream answer: a response shaped like HTTP (odd statuses, headers, framings, the key echoed), damaged, or random bytes. */
const upstreamAnswers = fc.oneof(
  fc.record({
    status: fc.oneof(fc.integer({ min: 0, max: 1100 }).map((n) => String(n).padStart(3, "0")), fc.constantFrom("200", "099", "1000", "2", "abc", "")),
    headers: fc.array(fc.tuple(fc.oneof(fc.constantFrom("content-type", "x-echo", "set-cookie", "content-encoding", "transfer-encoding", "content-length", "connection"), tokenish), tokenish), { maxLength: 4 }),
    echo: fc.constantFrom(...ECHOED),
    echoIn: fc.constantFrom("body", "header", "both", "none"),
    framing: fc.constantFrom("length", "chunked", "close", "wrong-length"),
    body: fc.string({ maxLength: 80 }),
    then: fc.constantFrom("close", "destroy", "keep") as fc.Arbitrary<RawAnswer["then"]>,
    damage: mutations,
  }).map(({ status, headers, echo, echoIn, framing, body, then, damage }) => {
    const text = echoIn === "body" || echoIn === "both" ? `${body}${echo}${body}` : body;
    const bytes = Buffer.from(text);
    const fields = headers.map(([name, value]) => `${name}: ${value}`);
    if (echoIn === "header" || echoIn === "both") fields.push(`x-key: ${echo}`);
    if (framing === "length") fields.push(`content-length: ${bytes.length}`);
    if (framing === "wrong-length") fields.push(`content-length: ${bytes.length + 7}`);
    if (framing === "chunked") fields.push("transfer-encoding: chunked");
    const payload = framing === "chunked" ? Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from("\r\n0\r\n\r\n")]) : bytes;
    const answer = Buffer.concat([Buffer.from(`HTTP/1.1 ${status} X\r\n${fields.map((f) => `${f}\r\n`).join("")}\r\n`, "latin1"), payload]);
    return { answer: { chunks: [mutate(answer, damage)], then } satisfies RawAnswer, damaged: damage.length > 0 };
  }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ answer: { chunks: [Buffer.from(bytes)], then: "close" } satisfies RawAnswer, damaged: true })),
);

const tools = ["web_search", "send_email", "database", "file_upload", "knowledge_base", "ticket_system", "nope", "WEB_SEARCH"];
/** Mostly `common`, sometimes `rare`: so that many cases get as far as the upstream. */
const mostly = <T>(common: fc.Arbitrary<T>, rare: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: common }, { weight: 1, arbitrary: rare });
/** A client request: shaped like HTTP (methods, targets, override and framing headers, bodies), damaged, or random bytes. */
const clientRequests = fc.oneof(
  { weight: 5, arbitrary: fc.record({
    method: mostly(fc.constantFrom("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"), fc.oneof(fc.constantFrom("TRACE", "CONNECT", "get", "PROPFIND"), tokenish)),
    tool: fc.constantFrom(...tools),
    path: fc.array(mostly(fc.constantFrom("v3", "mail", "send", "exec", "q", "x", "q?x=1"), fc.oneof(fc.constantFrom("..", ".", "", "%2e%2e", "%2F", "%73end", "SEND", "send;x"), tokenish)), { maxLength: 4 }),
    prefix: mostly(fc.constant("/tools/"), fc.constantFrom("/v1/check", "/", "//tools/", "http://x/tools/", "*")),
    headers: mostly(fc.constant<Array<[string, string]>>([]), fc.array(fc.tuple(fc.constantFrom("x-http-method-override", "x-api-key", "authorization", "content-length", "transfer-encoding", "connection", "expect", "host", "x-forwarded-for", "upgrade", "accept-encoding"), tokenish), { maxLength: 2 })),
    body: mostly(fc.constant(""), fc.string({ maxLength: 60 })),
    damage: mostly(fc.constant<ReadonlyArray<{ at: number; kind: string; byte: number }>>([]), mutations),
  }).map(({ method, tool, path, prefix, headers, body, damage }) => {
    const target = prefix === "/tools/" || prefix === "//tools/" || prefix === "http://x/tools/" ? `${prefix}${tool}/${path.join("/")}` : prefix;
    const fields = [`host: gateway`, ...headers.map(([n, v]) => `${n}: ${v}`), `content-length: ${Buffer.byteLength(body)}`, "connection: close"];
    return mutate(Buffer.from(`${method} ${target} HTTP/1.1\r\n${fields.map((f) => `${f}\r\n`).join("")}\r\n${body}`, "latin1"), damage);
  }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
);

/** The tool and the path below its upstream that a request the upstream read was sent for. */
function toolOf(config: GatewayConfig, request: RawRequest): { tool: string; path: string } | undefined {
  for (const tool of config.tools.values()) {
    if (tool.upstream?.host !== request.headers.host) continue;
    const base = tool.upstream.pathname.replace(/\/$/, "");
    const path = request.target.split("?")[0];
    if (path.startsWith(base)) return { tool: tool.name, path: path.slice(base.length) || "/" };
  }
  return undefined;
}

describe.skipIf(skip)("the gateway under random and damaged HTTP", () => {
  let redis: TestRedis;
  let certificate: TestCertificate;
  let upstream: RawUpstream;
  let gw: TestGateway;
  let config: GatewayConfig;
  /** What the upstream answers next; the client fuzz gets a plain 200. */
  let nextAnswer: RawAnswer | undefined;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  beforeAll(async () => {
    process.on("uncaughtException", onUncaught);
    process.on("unhandledRejection", onUncaught);
    const base = gatewayScenario();
    // The fuzzed role may also write to two tools (so many cases reach an upstream), but not EXECUTE send_email's operation.
    const spec: FirewallSpecProps = {
      ...base,
      tools: Object.fromEntries(Object.entries(base.tools).map(([name, tool]) => [name, { ...tool, rateLimit: tool.rateLimit && { maxCalls: 100_000, windowSec: 60 } }])),
      roles: {
        ...base.roles,
        [ROLE]: { ...base.roles[ROLE], tools: { web_search: ToolAccess.READ, database: ToolAccess.READ, send_email: ToolAccess.WRITE, ticket_system: ToolAccess.WRITE, knowledge_base: ToolAccess.READ } },
      },
    };
    config = gatewayConfigFromSpec(validateFirewallSpec(spec));
    redis = await TestRedis.start();
    certificate = selfSignedCertificate(Object.values(spec.tools).flatMap((t) => (t.upstream ? [new URL(t.upstream).hostname] : [])));
    upstream = await RawUpstream.start(certificate, () => nextAnswer ?? { chunks: [httpAnswer(200, "fine")], then: "keep" });
    gw = await startTestGateway(spec, redis.url, upstream, certificate, { headersTimeoutMs: 500, requestTimeoutMs: 1_000 }, new Map(), { env: {} }, { upstreamTimeoutMs: 500 });
    rotateKey(gw.keyDir, "web_search", KEY);
    const deadline = Date.now() + 10_000;
    while (upstream.received.at(-1)?.headers["x-api-key"] !== KEY && Date.now() < deadline) {
      await call({ host: ROLE_ADDRESSES[ROLE].listener, port: gw.rolePort, path: "/tools/web_search/warm" });
    }
    expect(upstream.received.at(-1)?.headers["x-api-key"]).toBe(KEY);
  });

  afterAll(async () => {
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onUncaught);
    await gw?.gateway.stop();
    await upstream?.stop();
    await redis?.kill();
  });

  const stillServing = async () => {
    nextAnswer = undefined;
    const answer = await call({ host: ROLE_ADDRESSES[ROLE].listener, port: gw.rolePort, path: "/tools/knowledge_base/alive" });
    expect(answer.status).toBe(200);
  };

  it("answers every upstream reply with well-formed HTTP (the reply, cut off, or 502), never with the key, and survives", async () => {
    const request = Buffer.from("GET /tools/web_search/fuzz HTTP/1.1\r\nhost: gateway\r\nconnection: close\r\n\r\n");
    await fc.assert(fc.asyncProperty(upstreamAnswers, async ({ answer, damaged }) => {
      nextAnswer = answer;
      const raw = await exchange(ROLE_ADDRESSES[ROLE].listener, gw.rolePort, request);
      expect(raw, JSON.stringify(raw.slice(0, 200))).toMatch(HEAD);
      expect(leak(raw, damaged), raw.slice(0, 400)).toBeUndefined();
      expect(uncaught).toEqual([]);
    }), { numRuns: RUNS });
    await stillServing();
  }, 300_000);

  it("answers every client request with well-formed HTTP or a closed connection, forwards only what the decision core allows, and survives", async () => {
    const before = upstream.received.length;
    await fc.assert(fc.asyncProperty(clientRequests, async (bytes) => {
      nextAnswer = undefined;
      const raw = await exchange(ROLE_ADDRESSES[ROLE].listener, gw.rolePort, bytes);
      if (raw !== "") expect(raw, JSON.stringify(raw.slice(0, 200))).toMatch(HEAD);
      expect(leak(raw)).toBeUndefined();
      expect(uncaught).toEqual([]);
    }), { numRuns: RUNS });
    const forwarded = upstream.received.slice(before);
    // Enough cases got through for the check below to mean something (random cases: most are refused).
    expect(forwarded.length).toBeGreaterThan(RUNS / 20);
    for (const request of forwarded) {
      const sent = toolOf(config, request);
      expect(sent, `${request.method} ${request.target} for ${request.headers.host}`).toBeDefined();
      const tool = config.tools.get(sent!.tool)!;
      // The effective path as the core derives it (the upstream got the path as sent, which the core accepted).
      const effective = effectivePath(sent!.path);
      if ("problem" in effective) throw new Error(`${request.method} ${request.target}: a path the core refuses (${effective.problem}) reached the upstream`);
      const decision = decidePermission(config, ROLE, tool.name, requiredAccess(tool, request.method, effective.segments));
      expect(decision.allowed, `${request.method} ${request.target} reached ${tool.name}`).toBe(true);
    }
    await stillServing();
  }, 300_000);
});
