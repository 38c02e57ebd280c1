/**
 * Through the real gateway (real redis-server, real HTTPS upstream): the review's reproductions of
 * an EXECUTE operation reached by another spelling of its path, method overrides, TRACE, TRACK and
 * CONNECT, and forwarding headers from agents. Each asserts what reached the upstream, not only
 * the status the agent saw.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../e2e/support/prerequisites";
import { ToolAccess, type FirewallSpecProps } from "../../src/model/types";
import { gatewayScenario } from "./fixture";
import { ROLE_ADDRESSES, startGatewayEnvironment, stopGatewayEnvironment, type TestGateway } from "./support/harness";
import { call } from "./support/net";
import type { TestRedis } from "./support/redis";
import { missingRedis } from "./support/redis";
import type { TestUpstream } from "./support/upstream";

const skip = skipLoudly("tool gateway request lines against real Redis and an HTTPS upstream", missingRedis());

/** ticket_system with EXECUTE operations: customer_support has WRITE on it, research_agent EXECUTE. */
function spellingScenario(): FirewallSpecProps {
  const spec = gatewayScenario();
  spec.tools.ticket_system = {
    upstream: "https://tickets.tools.test",
    executeOperations: [
      { method: "POST", path: "/v3/mail/send" },
      { method: "POST", path: "/v1/run" },
      { method: "PUT", path: "/repos/{owner}/{repo}/pulls/{number}/merge" },
    ],
  };
  spec.roles.research_agent = { ...spec.roles.research_agent, tools: { ...spec.roles.research_agent.tools, ticket_system: ToolAccess.EXECUTE } };
  return spec;
}

/** Sends raw bytes and returns everything the gateway answered until it closed the connection. */
function raw(host: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let answer = "";
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no close after ${JSON.stringify(text)}`)); }, 10_000);
    socket.on("data", (d) => (answer += d));
    socket.on("close", () => { clearTimeout(timer); resolve(answer); });
    socket.on("error", () => undefined);
    socket.write(text);
  });
}

describe.skipIf(skip)("tool gateway: what the upstream reads", () => {
  let redis: TestRedis;
  let upstream: TestUpstream;
  let gw: TestGateway;
  const spec = spellingScenario();
  const asRole = (role: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    call({ host: ROLE_ADDRESSES[role].listener, port: gw.rolePort, path, ...init });

  beforeAll(async () => {
    ({ redis, upstream, gw } = await startGatewayEnvironment(spec));
  });

  afterAll(async () => {
    await stopGatewayEnvironment({ gw, upstream, redis });
  });

  it.each([
    ["POST", "/v3/mail/send"], ["POST", "/v3/mail/send/"], ["POST", "/v3/mail/sen%64"], ["POST", "/V3/mail/send"], ["POST", "/v3/mail/send;x"], ["POST", "//v3/mail/send"],
    ["POST", "/v1/run/"], ["POST", "/v1/%72un"], ["POST", "/V1/RUN"], ["POST", "/v1/run;x"], ["POST", "//v1/run"], ["POST", "/v1/run.json"], ["POST", "/v1/%2572un"],
    ["PUT", "/repos/o/r/pulls/7/merge"], ["PUT", "/Repos/o/r/pulls/7/MERGE/"],
  ])("WRITE: %s %s never reaches the upstream", async (method, path) => {
    const before = upstream.received.length;
    const eventsBefore = gw.events.length;
    const answer = await asRole("customer_support", `/tools/ticket_system${path}`, { method, body: "{}" });
    expect([400, 403]).toContain(answer.status);
    expect(upstream.received.length).toBe(before);
    const event = gw.events.slice(eventsBefore).find((e) => e.event_type === "permission_denied" || e.event_type === "bad_request");
    expect(event, "one refusal event").toBeDefined();
    if (answer.status === 403) expect(event).toMatchObject({ event_type: "permission_denied", tool: "ticket_system", details: { required: "EXECUTE", granted: "WRITE" } });
    else expect(event).toMatchObject({ event_type: "bad_request", agent_role: "customer_support" });
  });

  it("EXECUTE gets the operation through in any spelling servers agree on, forwarded as sent; WRITE gets other paths", async () => {
    const before = upstream.received.length;
    for (const path of ["/v3/mail/send", "/V1/RUN/", "/repos/o/r/pulls/7/merge;x"]) {
      expect((await asRole("research_agent", `/tools/ticket_system${path}`, { method: path.startsWith("/repos") ? "PUT" : "POST", body: "{}" })).status, path).toBe(200);
    }
    expect((await asRole("customer_support", "/tools/ticket_system/v1/runs", { method: "POST", body: "{}" })).status).toBe(200);
    expect(upstream.received.slice(before).map((r) => r.url)).toEqual(["/v3/mail/send", "/V1/RUN/", "/repos/o/r/pulls/7/merge;x", "/v1/runs"]);
  });

  it.each([
    ["x-http-method-override", "DELETE"], ["X-HTTP-Method-Override", "POST"], ["x-http-method", "PUT"], ["x-method-override", "DELETE"], ["x-original-url", "/v1/run"],
  ])("refuses %s (every role, 400 and a bad_request event naming it)", async (header, value) => {
    for (const role of Object.keys(ROLE_ADDRESSES)) {
      const before = upstream.received.length;
      const eventsBefore = gw.events.length;
      const answer = await asRole(role, "/tools/knowledge_base/articles", { headers: { [header]: value } });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ error: "bad_request", message: expect.stringContaining(header.toLowerCase()) });
      expect(upstream.received.length).toBe(before);
      expect(gw.events.slice(eventsBefore)).toEqual([expect.objectContaining({ event_type: "bad_request", agent_role: role, details: expect.objectContaining({ reason: expect.stringContaining(`${header.toLowerCase()} is refused`) }) })]);
    }
  });

  it.each(["?_method=DELETE", "?page=2&_method=POST", "?%5Fmethod=PUT"])("refuses the query %s for every role", async (query) => {
    for (const role of Object.keys(ROLE_ADDRESSES)) {
      const before = upstream.received.length;
      const answer = await asRole(role, `/tools/knowledge_base/articles${query}`);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body).message).toContain("_method query parameter is refused");
      expect(upstream.received.length).toBe(before);
      expect(gw.events.at(-1)).toMatchObject({ event_type: "bad_request", agent_role: role });
    }
  });

  it("refuses a POST whose body names another method, and forwards one that only mentions it", async () => {
    const before = upstream.received.length;
    for (const [type, body] of [["application/x-www-form-urlencoded", "id=7&_method=DELETE"], ["application/json", '{"_method":"DELETE"}']]) {
      const answer = await asRole("customer_support", "/tools/ticket_system/v1/items/7", { method: "POST", headers: { "content-type": type }, body });
      expect(answer.status, type).toBe(400);
      expect(JSON.parse(answer.body).message).toContain("_method field in the body is refused");
      expect(gw.events.at(-1)).toMatchObject({ event_type: "bad_request", tool: "ticket_system", agent_role: "customer_support" });
    }
    expect(upstream.received.length).toBe(before);
    const mention = await asRole("customer_support", "/tools/ticket_system/v1/items", { method: "POST", body: '{"text":"_method=DELETE"}' });
    expect(mention.status).toBe(200);
    expect(upstream.received.at(-1)?.body).toBe('{"text":"_method=DELETE"}');
  });

  it("refuses TRACE to every role, even on a tool it may WRITE and EXECUTE", async () => {
    for (const role of Object.keys(ROLE_ADDRESSES)) {
      const before = upstream.received.length;
      const answer = await asRole(role, "/tools/ticket_system/v1/items", { method: "TRACE" });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toEqual({ error: "bad_request", message: "method TRACE is never forwarded" });
      expect(upstream.received.length).toBe(before);
      expect(gw.events.at(-1)).toMatchObject({ event_type: "bad_request", agent_role: role, details: { reason: "method TRACE is never forwarded", method: "TRACE" } });
    }
  });

  it("refuses CONNECT and TRACK: 400, a bad_request event, nothing upstream, and the gateway keeps serving", async () => {
    const { listener } = ROLE_ADDRESSES.research_agent;
    const before = upstream.received.length;
    const connectAnswer = await raw(listener, gw.rolePort, "CONNECT tickets.tools.test:443 HTTP/1.1\r\nHost: tickets.tools.test:443\r\n\r\n");
    expect(connectAnswer).toMatch(/^HTTP\/1\.1 400 /);
    expect(connectAnswer).toContain("method CONNECT is never forwarded");
    expect(gw.events.at(-1)).toMatchObject({ event_type: "bad_request", agent_role: "research_agent", details: { reason: "method CONNECT is never forwarded" } });
    const pathConnect = await raw(listener, gw.rolePort, "CONNECT /tools/ticket_system/x HTTP/1.1\r\nHost: gw\r\n\r\n");
    expect(pathConnect).toMatch(/^HTTP\/1\.1 400 /);
    const trackAnswer = await raw(listener, gw.rolePort, "TRACK /tools/ticket_system/x HTTP/1.1\r\nHost: gw\r\n\r\n");
    expect(trackAnswer).toMatch(/^HTTP\/1\.1 400 /);
    expect(gw.events.at(-1)).toMatchObject({ event_type: "bad_request", agent_role: "research_agent" });
    expect(upstream.received.length).toBe(before);
    expect((await asRole("research_agent", "/tools/knowledge_base/after")).status).toBe(200);
  });

  it("removes forwarding headers toward the upstream", async () => {
    const forwarding = {
      "x-forwarded-for": "10.9.9.9", "x-forwarded-host": "admin.internal", "x-forwarded-proto": "https", "x-forwarded-port": "443",
      "x-forwarded-prefix": "/admin", forwarded: "for=10.9.9.9;host=admin.internal;proto=https", "x-real-ip": "10.9.9.9", via: "1.1 agent",
    };
    const before = upstream.received.length;
    expect((await asRole("customer_support", "/tools/knowledge_base/a", { headers: { ...forwarding, "x-request-id": "kept" } })).status).toBe(200);
    const seen = upstream.received[before];
    for (const name of Object.keys(forwarding)) expect(seen.headers[name], name).toBeUndefined();
    expect(seen.headers["x-request-id"]).toBe("kept");
  });
});
