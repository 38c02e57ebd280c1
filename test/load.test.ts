import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { compileFirewall } from "../src/plan/plan";
import { FirewallSpecError, type SpecProblem } from "../src/model/errors";
import { loadFirewallSpec, parseFirewallFile } from "../src/model/load";
import { AgentPlatform, ToolAccess } from "../src/model/types";
import { failureOf } from "./support/spec-error";

const directory = mkdtempSync(join(tmpdir(), "rapidclaw-load-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Writes a file into the test directory and returns its path. */
function fileWith(name: string, text: string): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

const problemAt = (error: FirewallSpecError, path: string): SpecProblem => {
  const problem = error.problems.find((p) => p.path === path);
  if (problem === undefined) throw new Error(`no problem at ${path}; problems:\n${error.message}`);
  return problem;
};

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function positionOf(text: string, needle: string, occurrence = 0): { line: number; column: number } {
  let at = -1;
  for (let i = 0; i <= occurrence; i++) at = text.indexOf(needle, at + 1);
  if (at < 0) throw new Error(`"${needle}" not in text`);
  const before = text.slice(0, at).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

const HEAD = `platform: docker
modelHosts: [api.anthropic.com]
tools:
  web_search: { permissions: ["search:read"], key: {} }
  send_email: { permissions: ["email:send"], key: {} }
`;

describe("loadFirewallSpec", () => {
  it("loads examples/firewall.yaml into the seed's plan on Docker", () => {
    const loaded = loadFirewallSpec(join(__dirname, "..", "examples", "firewall.yaml"));
    expect(compileFirewall(loaded)).toStrictEqual(compileFirewall(firewallScenario(AgentPlatform.DOCKER)));
  });

  it("loads the props form from YAML and from JSON, with a $schema key", () => {
    const seed = firewallScenario(AgentPlatform.KUBERNETES);
    expect(loadFirewallSpec(fileWith("props.yml", stringify(seed)))).toStrictEqual(seed);
    const json = fileWith("props.json", JSON.stringify({ $schema: "../schema/firewall.schema.json", ...seed }, null, 2));
    expect(loadFirewallSpec(json)).toStrictEqual(seed);
  });

  it("reads a bare allowed tool as READ, { tool, access } as written, and denied as DENY", () => {
    // Kubernetes: only NetworkPolicy routes egress_cidrs.
    const spec = parseFirewallFile(
      `${HEAD.replace("platform: docker", "platform: kubernetes")}profiles:
  agent:
    tools:
      allowed: [web_search, { tool: send_email, access: EXECUTE }]
    allow_file_system: true
  quiet:
    tools: { allowed: [{ tool: web_search }], denied: [send_email] }
    network: { allow_egress: true, allowed_hosts: [arxiv.org], egress_cidrs: [{ cidr: 10.0.0.0/8, ports: [5432] }] }
`,
      "profiles.yaml",
    );
    expect(spec.roles).toStrictEqual({
      agent: { tools: { web_search: ToolAccess.READ, send_email: ToolAccess.EXECUTE }, allowFileSystem: true },
      quiet: {
        tools: { web_search: ToolAccess.READ, send_email: ToolAccess.DENY },
        network: { allowEgress: true, allowedHosts: ["arxiv.org"], egressCidrs: [{ cidr: "10.0.0.0/8", ports: [5432] }] },
      },
    });
  });

  it("keeps roles and profiles side by side, but refuses a role in both", () => {
    const both = `${HEAD}roles:\n  ops: {}\n  agent: { tools: { web_serch: READ } }\nprofiles:\n  agent: {}\n  reader: { tools: { allowed: [web_search] } }\n`;
    const error = failureOf(() => parseFirewallFile(both, "both.yaml"));
    expect(error.problems.map((p) => p.path)).toEqual(["profiles.agent", "roles.agent.tools.web_serch"]);
    expect(problemAt(error, "profiles.agent")).toMatchObject({ message: expect.stringMatching(/both roles and profiles/), ...positionOf(both, "agent: {}") });
    expect(problemAt(error, "roles.agent.tools.web_serch")).toMatchObject(positionOf(both, "web_serch"));
    const apart = both.replace("  agent: { tools: { web_serch: READ } }\nprofiles", "profiles");
    expect(Object.keys(parseFirewallFile(apart, "apart.yaml").roles).sort()).toEqual(["agent", "ops", "reader"]);
  });

  it("reports each problem in a profile by its path in the file, its line and column, and in snake_case words", () => {
    const text = `${HEAD}profiles:
  twice:
    tools: { allowed: [web_search, web_search], denied: [web_search] }
  agent:
    tools:
      allowed: [web_serch, { tool: web_search, access: WRITE }, { tool: send_email, acess: READ }, 7]
      denied: [send_email, send_email]
    limits: { max_tokens_per_task: 0 }
    network: { allowed_hosts: [arxiv.org] }
    allow_filesystem: true
agents:
  - { name: bot, image: "x/agent:1", role: agnet }
`;
    const error = failureOf(() => parseFirewallFile(text, "bad.yaml"));
    const expectations: [string, RegExp, string, number?][] = [
      ["profiles.agent.tools.allowed[0]", /unknown tool "web_serch"; did you mean "web_search"/, "web_serch"],
      ["profiles.agent.tools.allowed[1]", /WRITE on tool "web_search" whose key is read-only/, "{ tool: web_search"],
      ["profiles.agent.tools.allowed[2].acess", /unknown option "acess"; did you mean "access"/, "acess"],
      ["profiles.agent.tools.allowed[3]", /a tool name or \{ tool, access \}, got number 7/, "7]"],
      ["profiles.agent.tools.denied[1]", /tool "send_email" is listed twice under denied/, "send_email", 3],
      ["profiles.agent.limits.max_tokens_per_task", /^max_tokens_per_task must be at least 1$/, "0 }"],
      ["profiles.agent.network.allowed_hosts", /allowed_hosts is set but allow_egress is not true/, "allowed_hosts"],
      ["profiles.agent.allow_filesystem", /did you mean "allow_file_system"/, "allow_filesystem"],
      ["agents[0].role", /unknown role "agnet"; did you mean "agent"/, "agnet"],
      ["profiles.twice.tools.allowed[1]", /tool "web_search" is listed twice under allowed/, "web_search", 2],
      ["profiles.twice.tools.denied[0]", /tool "web_search" is both allowed and denied/, "web_search", 3],
    ];
    for (const [path, message, needle, occurrence] of expectations) {
      expect(problemAt(error, path)).toStrictEqual({ path, message: expect.stringMatching(message), ...positionOf(text, needle, occurrence ?? 0) });
    }
    expect(error.problems).toHaveLength(expectations.length);
    const { line, column } = positionOf(text, "web_serch");
    expect(error.message).toContain(`profiles.agent.tools.allowed[0] (bad.yaml:${line}:${column}): unknown tool`);
  });

  it("places problems of the props form at the bad value, or at the key when the key is what is wrong", () => {
    const text = `platform: kubernetes
modelHosts: [api.anthropic.com]
tools:
  web_search: { rateLimit: { maxCalls: 0, windowSec: 60 } }
roles:
  agent:
    tools: { web_serch: READ }
kubernetes:
  ingress:
    namespaceLabels:
      kubernetes.io/metadata.name: 5
    port: 8080
`;
    const error = failureOf(() => parseFirewallFile(text, "props.yaml"));
    expect(problemAt(error, "tools.web_search.rateLimit.maxCalls")).toMatchObject(positionOf(text, "0, windowSec"));
    expect(problemAt(error, "roles.agent.tools.web_serch")).toMatchObject(positionOf(text, "web_serch"));
    expect(problemAt(error, "kubernetes.ingress.namespaceLabels.kubernetes.io/metadata.name")).toMatchObject(positionOf(text, "5\n"));
  });

  it("places a missing required option at the object that lacks it", () => {
    const text = `${HEAD}roles: {}\nagents:\n  - name: bot\n    role: agent\n`;
    const error = failureOf(() => parseFirewallFile(text, "agents.yaml"));
    expect(problemAt(error, "agents[0].image")).toMatchObject({ message: "image is required", ...positionOf(text, "name: bot") });
  });

  it("reports a YAML syntax error as file:line:col", () => {
    const path = fileWith("broken.yaml", "platform: docker\nmodelHosts: [api.anthropic.com\ntools: {}\n");
    const error = failureOf(() => loadFirewallSpec(path));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0].message).toMatch(/^YAML syntax: /);
    expect(error.message).toMatch(new RegExp(`\\(${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3:1\\): YAML syntax`));
  });

  it("reports duplicate keys with the position of the second", () => {
    const text = "platform: docker\nplatform: kubernetes\n";
    const error = failureOf(() => parseFirewallFile(text, "twice.yaml"));
    expect(error.problems[0]).toMatchObject({ message: expect.stringMatching(/unique/), line: 2, column: 1 });
  });

  it("reports a JSON syntax error with its position, and refuses YAML in a .json file", () => {
    const trailingComma = '{\n  "platform": "docker",\n  "tools": {},\n}\n';
    expect(failureOf(() => parseFirewallFile(trailingComma, "comma.json")).problems[0]).toMatchObject({ message: expect.stringMatching(/^JSON syntax: /), line: 4, column: 1 });
    const yamlInJson = "platform: docker\nmodelHosts: [a.example.com]\ntools: {}\nroles: {}\n";
    expect(failureOf(() => parseFirewallFile(yamlInJson, "yaml.json")).problems[0].message).toMatch(/^JSON syntax: /);
  });

  it("says clearly when the file is missing, a directory, or of an unknown type", () => {
    const missing = join(directory, "nothing-here.yaml");
    expect(failureOf(() => loadFirewallSpec(missing)).message).toContain(`${missing}: 1 problem\n  - (root): cannot read the firewall file: no such file`);
    expect(failureOf(() => loadFirewallSpec(directory + "/")).message).toMatch(/directory/);
    expect(failureOf(() => loadFirewallSpec(fileWith("firewall.toml", "platform = 'docker'"))).message).toMatch(/\.yaml, \.yml or \.json/);
  });

  it("asks for roles when a file has neither roles nor profiles", () => {
    const error = failureOf(() => parseFirewallFile(HEAD, "no-roles.yaml"));
    expect(error.problems).toStrictEqual([{ path: "roles", message: expect.stringMatching(/roles .* or profiles/), line: 1, column: 1 }]);
  });
});
