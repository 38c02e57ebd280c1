/**
 * What other languages see of the API (jsii drops free functions and constants, so the package
 * root exports classes and enums only, each function a static method), what the library loads at
 * run time (nothing of the CLI's dependencies), and the API reference the README links to.
 */
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import * as library from "../src/index";
import {
  AgentRoleProfile,
  FirewallSpec,
  GatewayServiceUnit,
  HermesConfig,
  HostFirewall,
  HostFirewallError,
  OpenClawConfig,
  PrometheusAlertRules,
  SquidConf,
  ToolAccess,
  ToolAccessOrder,
} from "../src/index";
import { loadFirewallSpec } from "../src/model/load";
import { accessAllows } from "../src/model/validate";
import { AGENT_PROFILE_PATH } from "../src/plan/agent-environment";
import { AGENT_PROFILE_YAML_PATH } from "../src/constructs/agent-role-profile";
import { PROMETHEUS_RULE_API_VERSION } from "../src/constructs/prometheus-alert-rules";
import { GATEWAY_SERVICE_UNIT_NAME, renderGatewayServiceUnit } from "../src/render/gateway-service-unit";
import { HERMES_HOOK_COMMAND } from "../src/render/hermes-config";
import { renderHostFirewall } from "../src/render/host-firewall";
import { OPENCLAW_PLUGIN_ID, OPENCLAW_PLUGIN_PATH } from "../src/render/openclaw-config";
import { renderSquidConf, squidRolesForPlan } from "../src/render/squid-conf";
import { planOf } from "../src/plan/firewall-spec";
import { firewallScenario } from "../examples/firewall-scenario";
import { documentationFiles } from "./support/markdown-docs";

const REPO = join(__dirname, "..");
const manifest = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { dependencies: Record<string, string>; peerDependencies: Record<string, string> };

/** Runtime exports jsii leaves out on purpose (`@jsii ignore`): subclasses of `Error`. */
const TYPESCRIPT_ONLY = ["FirewallSpecError", "GatewayServiceError", "HostFirewallError"];

describe("the package root for every language", () => {
  it("exports classes and enums only: no free function, no loose constant", () => {
    const loose = Object.entries(library).filter(([, value]) => {
      if (typeof value === "function") return !/^class\b/.test(Function.prototype.toString.call(value));
      return typeof value !== "object" || value === null || !Object.values(value).every((member) => typeof member === "string");
    });
    expect(loose.map(([name]) => name)).toEqual([]);
  });

  it("gives every function and constant as a static member, equal to what the code uses", () => {
    const spec = FirewallSpec.fromProps(firewallScenario(library.AgentPlatform.KUBERNETES));
    const input = { roles: squidRolesForPlan(planOf(spec)), allowPlainHttp: false };
    expect(SquidConf.render(input)).toBe(renderSquidConf(input));
    expect(SquidConf.render(input)).toContain("http_access deny all");
    const hostOptions = { users: ["agent"], proxyEndpoints: [{ address: "10.0.0.3", port: 3128 }] };
    expect(HostFirewall.render(hostOptions)).toEqual(renderHostFirewall(hostOptions));
    expect(() => HostFirewall.render({ users: ["root"], proxyEndpoints: [{ address: "10.0.0.3", port: 0 }] })).toThrow(HostFirewallError);
    expect(GatewayServiceUnit.render({ user: "gw" })).toBe(renderGatewayServiceUnit({ user: "gw" }));
    const file = join(REPO, "examples/firewall.yaml");
    expect(FirewallSpec.loadProps(file)).toEqual(loadFirewallSpec(file));
    const levels = [ToolAccess.DENY, ToolAccess.READ, ToolAccess.WRITE, ToolAccess.EXECUTE];
    for (const [g, granted] of levels.entries()) {
      for (const [w, wanted] of levels.entries()) expect([ToolAccessOrder.allows(granted, wanted), accessAllows(granted, wanted)]).toEqual([g >= w, g >= w]);
    }
    expect([AgentRoleProfile.PROFILE_JSON_PATH, AgentRoleProfile.PROFILE_YAML_PATH]).toEqual([AGENT_PROFILE_PATH, AGENT_PROFILE_YAML_PATH]);
    expect(PrometheusAlertRules.RULE_API_VERSION).toBe(PROMETHEUS_RULE_API_VERSION);
    expect([OpenClawConfig.PLUGIN_ID, OpenClawConfig.PLUGIN_PATH, HermesConfig.HOOK_COMMAND]).toEqual([OPENCLAW_PLUGIN_ID, OPENCLAW_PLUGIN_PATH, HERMES_HOOK_COMMAND]);
    expect(GatewayServiceUnit.UNIT_NAME).toBe(GATEWAY_SERVICE_UNIT_NAME);
  });
});

/** Module specifiers a source file imports, requires or names in an `import()` type. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*|^import\s+)"([^"]+)"/gm)].map((m) => m[1]);
}

/** Every package the library's code (what src/index.ts reaches) refers to, by name. */
function libraryPackages(): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of specifiers(file)) {
      if (specifier.startsWith(".")) {
        const base = resolve(dirname(file), specifier);
        const target = [`${base}.ts`, join(base, "index.ts")].find((candidate) => existsSync(candidate));
        if (target === undefined) throw new Error(`${file}: cannot resolve ${specifier}`);
        visit(target);
      } else {
        packages.add(specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]);
      }
    }
  };
  visit(join(REPO, "src/index.ts"));
  return packages;
}

describe("the library's run-time dependencies", () => {
  it("are only its dependencies and peers: the CLI's (commander, ioredis, prom-client) stay in the bundle", () => {
    const allowed = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies), ...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const used = libraryPackages();
    expect([...used].filter((name) => !allowed.has(name))).toEqual([]);
    expect(used.has("zod") && used.has("cdktf")).toBe(true);
    for (const name of ["commander", "ioredis", "prom-client", "undici"]) expect(Object.keys(manifest.dependencies)).not.toContain(name);
  });
});

describe("API.md", () => {
  const api = readFileSync(join(REPO, "API.md"), "utf8");
  const anchors = new Set([...api.matchAll(/<a name="([^"]+)" id="([^"]+)"><\/a>/g)].flatMap((m) => [m[1], m[2]]));
  const documented = new Set([...api.matchAll(/^### (\w+) <a name=/gm)].map((m) => m[1]));

  it("documents every class and enum the package exports, and none of the TypeScript-only ones", () => {
    expect(Object.keys(library).filter((name) => !TYPESCRIPT_ONLY.includes(name) && !documented.has(name))).toEqual([]);
    expect(TYPESCRIPT_ONLY.filter((name) => documented.has(name) || !(name in library))).toEqual([]);
  });

  it("has every anchor the documentation links to", () => {
    const docs = documentationFiles(REPO).map((file) => readFileSync(join(REPO, file), "utf8")).join("\n");
    const links = [...docs.matchAll(/\]\((?:\.\.\/)?API\.md#([^)\s]+)\)/g)].map((m) => decodeURIComponent(m[1]));
    expect(links.length).toBeGreaterThan(20);
    expect(links.filter((anchor) => !anchors.has(anchor))).toEqual([]);
  });
});
