import { describe, expect, it } from "vitest";
import { gatewayConfigFromSpec } from "../../src/gateway/config";
import { effectivePath } from "../../src/gateway/effective-path";
import { CallerIdentity } from "../../src/gateway/identity";
import { decidePermission, requiredAccess } from "../../src/gateway/permissions";
import { alertKeyPrefix, limiterKey } from "../../src/plan/redis-keys";
import { routeRequest } from "../../src/gateway/routing";
import { FirewallSpecError } from "../../src/model/errors";
import { ToolAccess } from "../../src/model/types";
import { validateFirewallSpec } from "../../src/model/validate";
import { gatewayScenario } from "./fixture";

const config = gatewayConfigFromSpec(validateFirewallSpec(gatewayScenario()));

/** The effective segments of a path below a tool, which must have some. */
function segmentsOf(path: string): ReadonlyArray<string> {
  const effective = effectivePath(path);
  if ("problem" in effective) throw new Error(`${path}: ${effective.problem}`);
  return effective.segments;
}

describe("routing", () => {
  it("routes a tool call to the tool and the path below it, query kept", () => {
    expect(routeRequest("GET", "/tools/web_search/v1/search?q=a%2Fb")).toEqual({ kind: "tool", tool: "web_search", path: "/v1/search", query: "?q=a%2Fb", effectiveSegments: ["v1", "search"] });
    expect(routeRequest("GET", "/tools/web_search")).toEqual({ kind: "tool", tool: "web_search", path: "/", query: "", effectiveSegments: [] });
    expect(routeRequest("POST", "/v1/check")).toEqual({ kind: "check" });
  });

  it.each([
    "/tools/web_search/../send_email/v3/mail/send",
    "/tools/web_search/./x",
    "/tools/web_search/%2e%2e/send_email",
    "/tools/web_search/%2E%2E/send_email",
    "/tools/web_search/..%2fsend_email",
    "/tools/web_search%2f..%2fsend_email",
    "/tools/web_search/a%5c..%5csend_email",
    "/tools/web_search/a\\..\\send_email",
    "/tools/web_search//send_email",
    "/tools/Web_Search/x",
    "/tools/../tools/send_email",
    "http://evil.test/tools/web_search/",
    "*",
    "/v2/other",
  ])("refuses %s", (target) => {
    expect(routeRequest("GET", target).kind).toBe("bad");
  });

  it("takes the check endpoint by POST only", () => {
    expect(routeRequest("GET", "/v1/check").kind).toBe("bad");
  });
});

describe("required access", () => {
  const mail = config.tools.get("send_email")!;
  it("maps safe methods to READ, others to WRITE, listed operations to EXECUTE", () => {
    expect(requiredAccess(mail, "GET", segmentsOf("/v3/mail/send"))).toBe(ToolAccess.READ);
    expect(requiredAccess(mail, "HEAD", segmentsOf("/"))).toBe(ToolAccess.READ);
    expect(requiredAccess(mail, "OPTIONS", segmentsOf("/"))).toBe(ToolAccess.READ);
    expect(requiredAccess(mail, "POST", segmentsOf("/v3/mail/send"))).toBe(ToolAccess.EXECUTE);
    expect(requiredAccess(mail, "POST", segmentsOf("/v3/mail/send/x"))).toBe(ToolAccess.WRITE);
    expect(requiredAccess(mail, "DELETE", segmentsOf("/v3/mail"))).toBe(ToolAccess.WRITE);
  });

  it("matches a prefix operation below its path only", () => {
    const spec = gatewayScenario();
    spec.tools.ticket_system = { upstream: "https://tickets.tools.test", executeOperations: [{ method: "POST", path: "/admin/*" }] };
    const tickets = gatewayConfigFromSpec(validateFirewallSpec(spec)).tools.get("ticket_system")!;
    expect(requiredAccess(tickets, "POST", segmentsOf("/admin/reset"))).toBe(ToolAccess.EXECUTE);
    expect(requiredAccess(tickets, "POST", segmentsOf("/administrator"))).toBe(ToolAccess.WRITE);
  });
});

describe("permission decision", () => {
  it("allows at or below the granted access and refuses above it, unlisted tools are DENY", () => {
    expect(decidePermission(config, "customer_support", "send_email", ToolAccess.EXECUTE).allowed).toBe(true);
    expect(decidePermission(config, "customer_support", "ticket_system", ToolAccess.WRITE).allowed).toBe(true);
    expect(decidePermission(config, "customer_support", "ticket_system", ToolAccess.EXECUTE)).toMatchObject({ allowed: false, reason: "permission_denied", granted: ToolAccess.WRITE });
    expect(decidePermission(config, "customer_support", "database", ToolAccess.READ)).toMatchObject({ allowed: false, granted: ToolAccess.DENY });
    expect(decidePermission(config, "research_agent", "web_search", ToolAccess.WRITE)).toMatchObject({ allowed: false, granted: ToolAccess.READ });
    expect(decidePermission(config, "research_agent", "nope", ToolAccess.READ)).toEqual({ allowed: false, reason: "unknown_tool" });
  });
});

describe("identity", () => {
  it("takes the listener's role, else the source network's; nothing else", () => {
    const identity = new CallerIdentity({ sourceNetworks: [{ cidr: "10.1.0.0/24", role: "a" }, { cidr: "fd00::/64", role: "b" }] });
    expect(identity.roleOf({ port: 1, role: "r" }, "10.1.0.5")).toBe("r");
    expect(identity.roleOf({ port: 1 }, "10.1.0.5")).toBe("a");
    expect(identity.roleOf({ port: 1 }, "::ffff:10.1.0.5")).toBe("a");
    expect(identity.roleOf({ port: 1 }, "fd00::7")).toBe("b");
    expect(identity.roleOf({ port: 1 }, "10.1.1.5")).toBeUndefined();
    expect(identity.roleOf({ port: 1 }, undefined)).toBeUndefined();
  });
});

describe("gateway config", () => {
  it("gives each role a default listener port in name order, and keys to keyed tools only", () => {
    expect(config.listeners).toEqual([{ port: 8080, role: "customer_support" }, { port: 8081, role: "research_agent" }]);
    expect(config.tools.get("web_search")!.keyHeader).toEqual({ name: "x-api-key", prefix: "", suffix: "" });
    expect(config.tools.get("send_email")!.keyHeader).toEqual({ name: "authorization", prefix: "Bearer ", suffix: "" });
    expect(config.tools.get("knowledge_base")!.keyHeader).toBeUndefined();
  });

  it("names Redis keys after the firewall, keeping the default name's layout and every hash tag", () => {
    // The default name keeps the keys of releases before namespacing: an upgrade resets nothing.
    expect(limiterKey("rapidclaw", "research_agent", "web_search")).toBe("rl:{research_agent:web_search}");
    expect(alertKeyPrefix("rapidclaw")).toBe("rapidclaw:alert:");
    expect(limiterKey("team-a", "research_agent", "web_search")).toBe("team-a:rl:{research_agent:web_search}");
    expect(alertKeyPrefix("team-a")).toBe("team-a:alert:");
  });

  it("reports every bad gateway option by its path", () => {
    const spec = gatewayScenario({
      gateway: {
        listeners: [{ port: 9000, role: "research_agnet" }, { port: 9000 }, { port: 9001, address: "gateway.local" }],
        sourceNetworks: [{ cidr: "10.0.0.0/16", role: "customer_support" }, { cidr: "10.0.1.0/24", role: "research_agent" }, { cidr: "10.2.0.1/16", role: "research_agent" }],
      },
    });
    spec.tools.web_search = { ...spec.tools.web_search, upstream: "http://user:pw@10.0.0.1/x?y" };
    spec.tools.database = { ...spec.tools.database, upstream: "https://user@db.tools.test" };
    spec.tools.knowledge_base = { upstream: "https://*.kb.test", keyHeader: { name: "x-api-key", format: "Bearer" } };
    spec.tools.ticket_system = { upstream: "https://tickets.tools.test/a?b=c", executeOperations: [{ method: "POST", path: "/a/../b" }, { method: "post", path: "x" }] };
    let error: FirewallSpecError | undefined;
    try { validateFirewallSpec(spec); } catch (e) { error = e as FirewallSpecError; }
    expect(error).toBeInstanceOf(FirewallSpecError);
    const paths = error!.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining([
      "gateway.listeners[0].role",
      "gateway.listeners[1].port",
      "gateway.listeners[2].address",
      "gateway.sourceNetworks[1].cidr",
      "gateway.sourceNetworks[2].cidr",
      "tools.web_search.upstream",
      "tools.database.upstream",
      "tools.knowledge_base.upstream",
      "tools.knowledge_base.keyHeader",
      "tools.knowledge_base.keyHeader.format",
      "tools.ticket_system.upstream",
      "tools.ticket_system.executeOperations[0].path",
      "tools.ticket_system.executeOperations[1].method",
      "tools.ticket_system.executeOperations[1].path",
    ]));
    expect(error!.message).toContain('did you mean "research_agent"');
    expect(error!.message).toContain("is not https");
  });
});
