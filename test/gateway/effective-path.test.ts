/**
 * EXECUTE operations are matched on what the upstream will read: every spelling of an operation's
 * path that a lenient server routes to it needs EXECUTE, or is refused before forwarding.
 * The property's server is written here, apart from the gateway's core: it decodes every escape,
 * ignores case, drops `;params` and empty segments (repeated and trailing slashes).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { gatewayConfigFromSpec } from "../../src/gateway/config";
import { effectivePath } from "../../src/gateway/effective-path";
import { bodyMethodProblem, methodProblem } from "../../src/gateway/effective-method";
import { decidePermission, requiredAccess } from "../../src/gateway/permissions";
import { routeRequest } from "../../src/gateway/routing";
import { FirewallSpecError } from "../../src/model/errors";
import { firewallFileJsonSchema } from "../../src/model/json-schema";
import { parseFirewallFile } from "../../src/model/load";
import { ToolAccess, type FirewallSpecProps } from "../../src/model/types";
import { validateFirewallSpec } from "../../src/model/validate";
import { gatewayScenario } from "./fixture";

/** The reference scenario with `ticket_system` carrying `operations`: customer_support has WRITE on it, research_agent EXECUTE. */
function withOperations(operations: ReadonlyArray<{ method: string; path: string }>): FirewallSpecProps {
  const spec = gatewayScenario();
  spec.tools.ticket_system = { upstream: "https://tickets.tools.test", executeOperations: [...operations] };
  spec.roles.research_agent = { ...spec.roles.research_agent, tools: { ...spec.roles.research_agent.tools, ticket_system: ToolAccess.EXECUTE } };
  return spec;
}

/** What the gateway does with `method target` for `role`: refused as a bad request, refused for access, or forwarded. */
function outcome(spec: FirewallSpecProps, role: string, method: string, target: string, headers: Record<string, string> = {}): "bad" | "denied" | "forwarded" {
  const config = gatewayConfigFromSpec(validateFirewallSpec(spec));
  const route = routeRequest(method, target, headers);
  if (route.kind !== "tool") return "bad";
  const required = requiredAccess(config.tools.get(route.tool)!, method, route.effectiveSegments);
  return decidePermission(config, role, route.tool, required).allowed ? "forwarded" : "denied";
}

const segments = (path: string) => {
  const effective = effectivePath(path);
  return "problem" in effective ? effective.problem : effective.segments;
};

describe("effective path", () => {
  it.each([
    ["/v1/run", ["v1", "run"]],
    ["/v1/run/", ["v1", "run"]],
    ["/v1/%72un", ["v1", "run"]],
    ["/V1/RUN", ["v1", "run"]],
    ["/v1/run;x", ["v1", "run"]],
    ["/v1;v=2/run;jsessionid=1", ["v1", "run"]],
    ["/v1/;x/run", ["v1", "run"]],
    ["/v1/run%20", ["v1", "run"]],
    ["/v1/%C5%BFend", ["v1", "send"]], // long s
    ["/v1/l%C4%B1st", ["v1", "list"]], // dotless i: upper case is I
    ["/v1/cla%C3%9F", ["v1", "class"]], // sharp s: upper case is SS
    ["/v1/%EF%BD%92un", ["v1", "run"]], // full-width r
    ["/v1/%EF%BC%8Frun", ["v1", "run"]], // full-width solidus splits as a slash would
    ["/", []],
    ["/files/caf%C3%A9", ["files", "café"]],
  ])("reads %s as %j", (path, expected) => {
    expect(segments(path)).toEqual(expected);
  });

  it.each([
    "//v1/run", "/v1//run", "/v1/./run", "/v1/x/../run", "/v1/..;/run",
    "/v1/%2572un", "/v1/run%3Bx", "/v1/run%3fx", "/v1/run%23", "/v1%2frun", "/v1%5Crun", "/v1/%2e%2e/run", "/v1/run%09", "/v1/run%00", "/v1/run%7F",
    "/v1/run%", "/v1/run%4", "/v1/%zzrun", "/v1/%FFrun", "/v1\\run", "/v1/%EF%BC%8E%EF%BC%8E/run",
  ])("refuses %s, which servers read in more than one way", (path) => {
    expect(typeof segments(path)).toBe("string");
  });
});

describe("operations and required access", () => {
  const spec = withOperations([
    { method: "POST", path: "/v1/run" },
    { method: "PUT", path: "/repos/{owner}/{repo}/pulls/{number}/merge" },
    { method: "DELETE", path: "/v1/admin/*" },
    { method: "GET", path: "/v1/export" },
  ]);
  const tickets = gatewayConfigFromSpec(validateFirewallSpec(spec)).tools.get("ticket_system")!;
  const access = (method: string, path: string) => {
    const effective = effectivePath(path);
    if ("problem" in effective) throw new Error(effective.problem);
    return requiredAccess(tickets, method, effective.segments);
  };

  it("matches a template's {name} on exactly one segment", () => {
    expect(access("PUT", "/repos/a/b/pulls/3/merge")).toBe(ToolAccess.EXECUTE);
    expect(access("PUT", "/REPOS/a/B/Pulls/3/MERGE/")).toBe(ToolAccess.EXECUTE);
    expect(access("PUT", "/repos/a/b/pulls/3")).toBe(ToolAccess.WRITE);
    expect(access("PUT", "/repos/a/b/pulls/3/merge/x")).toBe(ToolAccess.WRITE);
    expect(access("PUT", "/repos/a/pulls/3/merge")).toBe(ToolAccess.WRITE);
  });

  it("matches a /* operation on its path and everything below", () => {
    expect(access("DELETE", "/v1/admin")).toBe(ToolAccess.EXECUTE);
    expect(access("DELETE", "/v1/admin/")).toBe(ToolAccess.EXECUTE);
    expect(access("DELETE", "/v1/admin/users/7")).toBe(ToolAccess.EXECUTE);
    expect(access("DELETE", "/v1/administrator")).toBe(ToolAccess.WRITE);
  });

  it("matches a format suffix on the last segment, and HEAD on a GET operation", () => {
    expect(access("POST", "/v1/run.json")).toBe(ToolAccess.EXECUTE);
    expect(access("POST", "/v1/run.")).toBe(ToolAccess.EXECUTE);
    expect(access("POST", "/v1.json/run")).toBe(ToolAccess.WRITE);
    expect(access("HEAD", "/v1/export")).toBe(ToolAccess.EXECUTE);
    expect(access("GET", "/v1/export.csv")).toBe(ToolAccess.EXECUTE);
    expect(access("GET", "/v1/run")).toBe(ToolAccess.READ);
  });

  it("refuses every spelling of the issue's reproduction to a WRITE role, forwards the plain one to EXECUTE", () => {
    for (const path of ["/v1/run", "/v1/run/", "/v1/%72un", "/V1/RUN", "/v1/run;x", "//v1/run", "/v1/ru%6E", "/v1/run.json"]) {
      expect(outcome(spec, "customer_support", "POST", `/tools/ticket_system${path}`), path).not.toBe("forwarded");
    }
    expect(outcome(spec, "research_agent", "POST", "/tools/ticket_system/v1/run/")).toBe("forwarded");
    expect(outcome(spec, "customer_support", "POST", "/tools/ticket_system/v1/other")).toBe("forwarded");
  });
});

describe("operation paths in the model", () => {
  const problems = (paths: string[]) => {
    try {
      validateFirewallSpec(withOperations(paths.map((path) => ({ method: "POST", path }))));
      return [];
    } catch (error) {
      return (error as FirewallSpecError).problems.map((p) => `${p.path}: ${p.message}`);
    }
  };

  it("accepts exact paths, templates and /*", () => {
    expect(problems(["/v3/mail/send", "/v3/mail/send/", "/repos/{owner}/{repo}/pulls/{number}/merge", "/v1/admin/*", "/{org}/*", "/*", "/", "/v1/users/me:activate", "/a/b~c_d.e-f"])).toEqual([]);
  });

  it("a firewall file with templates loads, and the gateway compiles them (folded literals, one wildcard per {name})", () => {
    const file = stringify(withOperations([{ method: "PUT", path: "/Repos/{owner}/{repo}/pulls/{number}/merge" }, { method: "POST", path: "/v1/admin/*" }]));
    const tool = gatewayConfigFromSpec(validateFirewallSpec(parseFirewallFile(file, "firewall.yaml"))).tools.get("ticket_system")!;
    expect(tool.executeOperations).toEqual([
      { method: "PUT", segments: ["repos", undefined, undefined, "pulls", undefined, "merge"], below: false },
      { method: "POST", segments: ["v1", "admin"], below: true },
    ]);
    // Editors learn the forms from the shipped JSON Schema.
    expect(JSON.stringify(firewallFileJsonSchema())).toContain("a template whose {name} segments match any one segment (/repos/{owner}/{repo}/pulls/{number}/merge)");
  });

  it.each([
    ["/repos/{owner/x", "a template segment is {name} alone between slashes"],
    ["/v{version}/send", "a template segment is {name} alone between slashes"],
    ["/a/{id}/b/{id}", "{id} appears twice; give each template segment its own name"],
    ["/a/{1x}", "a template segment is {name} alone between slashes"],
    ["/a/*/b", "\"*\" is allowed only as the last segment"],
    ["/a/b*", "\"*\" is allowed only as the last segment"],
    ["/a;v=1/b", "holds \";\""],
    ["/a//b", "holds an empty segment"],
    ["/v1/%72un", "write \"/v1/run\", not \"/v1/%72un\""],
    ["/v1/rün", "non-ASCII"],
    ["/v1/../run", "\".\" or \"..\" segments"],
    ["v1/run", "must start with \"/\""],
  ])("refuses %s with its path and a fix", (path, fix) => {
    const found = problems([path]);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain("tools.ticket_system.executeOperations[0].path: ");
    expect(found[0]).toContain(fix);
  });
});

describe("effective method", () => {
  it.each(["TRACE", "TRACK", "CONNECT"])("refuses %s for every role", (method) => {
    expect(methodProblem(method, "", {})).toBe(`method ${method} is never forwarded`);
  });

  it.each(["x-http-method-override", "x-http-method", "x-method-override", "x-original-url", "x-rewrite-url"])("refuses the header %s, whatever its value", (header) => {
    expect(methodProblem("GET", "", { [header]: "GET" })).toContain(`${header} is refused`);
  });

  it.each(["?_method=DELETE", "?a=1&_METHOD=post", "?%5Fmethod=PUT", "?a=1;_method=PUT", "?_method[]=PUT", "?+_method=PUT", "?_method"])("refuses the query %s", (query) => {
    expect(methodProblem("GET", query, {})).toContain("_method query parameter is refused");
  });

  it("refuses a _method field in a POST body (form, multipart, JSON), and only its name", () => {
    const refused = (contentType: string, body: string, method = "POST") => bodyMethodProblem(method, contentType, Buffer.from(body)) !== undefined;
    expect(refused("application/x-www-form-urlencoded", "a=1&_method=DELETE")).toBe(true);
    expect(refused("application/x-www-form-urlencoded; charset=utf-8", "%5Fmethod=PUT")).toBe(true);
    expect(refused("multipart/form-data; boundary=b", '--b\r\nContent-Disposition: form-data; name="_method"\r\n\r\nDELETE\r\n--b--\r\n')).toBe(true);
    expect(refused("application/json", '{"_method":"DELETE","id":1}')).toBe(true);
    expect(refused("application/vnd.api+json", '{"_METHOD":"DELETE"}')).toBe(true);
    expect(refused("application/json", '{"prompt":"explain _method=DELETE in Rails"}')).toBe(false);
    expect(refused("application/x-www-form-urlencoded", "q=_method")).toBe(false);
    expect(refused("text/plain", "_method=DELETE")).toBe(false);
    expect(refused("application/json", '{"_method":"DELETE"}', "PUT")).toBe(false);
  });

  it("lets the ordinary through: other methods, headers and parameters named otherwise", () => {
    for (const method of ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]) expect(methodProblem(method, "?q=_method&method=x&my_method=1", { "x-request-id": "1" })).toBeUndefined();
  });
});

/** A deterministic random source for one spelling, so a failure replays from fast-check's seed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

const SPELLINGS = ["case", "encode", "trailingSlash", "params", "doubleSlash"] as const;
type Spelling = (typeof SPELLINGS)[number];

/** Another spelling of a path of plain segments: the chosen spellings applied at random places. */
function spell(segmentsOfPath: ReadonlyArray<string>, chosen: ReadonlyArray<Spelling>, seed: number): string {
  const next = random(seed);
  const on = (spelling: Spelling) => chosen.includes(spelling) && next() < 0.5;
  const hex = (c: string) => { const h = c.charCodeAt(0).toString(16); return `%${next() < 0.5 ? h : h.toUpperCase()}`; };
  const spelled = segmentsOfPath.map((segment) => {
    let text = [...segment].map((c) => {
      if (on("encode")) return hex(c);
      if (on("case")) return next() < 0.5 ? c.toUpperCase() : c.toLowerCase();
      return c;
    }).join("");
    if (on("params")) text += `;${["x", "v=1", "jsessionid=ab", ""][Math.floor(next() * 4)]}`;
    return text;
  });
  let path = spelled.map((s) => (on("doubleSlash") ? `//${s}` : `/${s}`)).join("");
  if (path === "") path = "/";
  if (on("trailingSlash")) path += next() < 0.5 ? "/" : "//";
  return path;
}

/** The property's server: decodes every escape, ignores case, drops `;params` and empty segments, then matches the template. */
function serverRoutes(template: string, path: string): boolean {
  let decoded: string;
  try { decoded = decodeURIComponent(path); } catch { return false; }
  const read = decoded.toLowerCase().split("/").map((s) => s.split(";")[0]).filter((s) => s !== "");
  const below = template.endsWith("/*");
  const wanted = (below ? template.slice(0, -2) : template).split("/").filter((s) => s !== "");
  if (below ? read.length < wanted.length : read.length !== wanted.length) return false;
  return wanted.every((w, i) => /^\{\w+\}$/.test(w) || w.toLowerCase() === read[i]);
}

describe("property: no spelling of an operation reaches the upstream for a WRITE role", () => {
  const literal = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._~-]{0,6}$/);
  const operation = fc.record({
    method: fc.constantFrom("POST", "PUT", "PATCH", "DELETE", "GET"),
    parts: fc.array(fc.oneof(literal.map((text) => ({ text, parameter: false })), fc.constant({ text: "", parameter: true })), { minLength: 1, maxLength: 4 }),
    below: fc.boolean(),
  }).map(({ method, parts, below }) => ({
    method,
    path: `/${parts.map((p, i) => (p.parameter ? `{p${i}}` : p.text)).join("/")}${below ? "/*" : ""}`,
    parts,
    below,
  }));
  const call = fc.record({
    operation,
    values: fc.array(literal, { minLength: 4, maxLength: 4 }),
    extra: fc.array(literal, { maxLength: 2 }),
    spellings: fc.subarray([...SPELLINGS]),
    seed: fc.integer(),
    head: fc.boolean(),
  });

  it("exact, prefix and template operations; case, escapes, trailing and repeated slashes, ;params and their combinations", () => {
    let refusedAsBad = 0;
    let denied = 0;
    fc.assert(fc.property(call, ({ operation: op, values, extra, spellings, seed, head }) => {
      const plain = [...op.parts.map((p, i) => (p.parameter ? values[i] : p.text)), ...(op.below ? extra : [])];
      const spelled = spell(plain, spellings, seed);
      expect(serverRoutes(op.path, spelled), `the server routes ${spelled} to ${op.path}`).toBe(true);
      const spec = withOperations([{ method: op.method, path: op.path }]);
      const method = op.method === "GET" && head ? "HEAD" : op.method;
      const got = outcome(spec, "customer_support", method, `/tools/ticket_system${spelled}`);
      expect(got, `${method} ${spelled} for WRITE, operation ${op.method} ${op.path}`).not.toBe("forwarded");
      if (got === "bad") refusedAsBad++; else denied++;
      // The plain spelling is no bad request: EXECUTE gets it through.
      expect(outcome(spec, "research_agent", method, `/tools/ticket_system/${plain.join("/")}`)).toBe("forwarded");
    }), { numRuns: 300 });
    // Both defences were exercised: matched and refused for access, and refused as ambiguous.
    expect(denied).toBeGreaterThan(0);
    expect(refusedAsBad).toBeGreaterThan(0);
  });
});
