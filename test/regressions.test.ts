import { terraformLiteral } from "../src/terraform/terraform-literal";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Testing } from "cdktf";
import { afterAll, describe, expect, it } from "vitest";
import { EXAMPLE_PROXY_IMAGE, firewallScenario as seedSpec } from "../examples/firewall-scenario";
import { RESERVED_AGENT_ENV } from "../src/plan/agent-environment";
import { compileFirewall } from "../src/plan/plan";
import { RapidClawStack } from "../src";
import { FirewallSpecError } from "../src/model/errors";
import { isReservedEnvName } from "../src/model/validate";
import { AgentPlatform, KeyMode, type FirewallSpecProps } from "../src/model/types";
import { reorderSpec } from "./support/arbitraries";

/** Counterexamples the bad-input table and the invariant properties found, kept as plain tests. */

const OUTDIR = mkdtempSync(join(tmpdir(), "rapidclaw-regressions-"));
afterAll(() => rmSync(OUTDIR, { recursive: true, force: true }));

const synth = (spec: FirewallSpecProps) => Testing.synth(new RapidClawStack(new App({ outdir: OUTDIR }), "agent-firewall", spec));

function problemsOf(spec: unknown): string[] {
  try {
    compileFirewall(spec);
    return [];
  } catch (error) {
    if (error instanceof FirewallSpecError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
}

const minimal = (platform: AgentPlatform, extra: Partial<FirewallSpecProps> = {}): FirewallSpecProps => ({
  platform,
  ...(platform === AgentPlatform.KUBERNETES ? { proxy: { image: EXAMPLE_PROXY_IMAGE } } : {}),
  modelHosts: ["api.anthropic.com"],
  tools: { web: {} },
  roles: { web: {} },
  ...extra,
});

describe("invariant 6 (determinism): two egress entries for one CIDR", () => {
  // Found by fast-check: the plan sorted egress CIDRs by CIDR only, so two entries for the same
  // CIDR kept the order the spec listed them in, and the NetworkPolicy and profile followed it.
  const spec = minimal(AgentPlatform.KUBERNETES, {
    roles: { p8: { network: { egressCidrs: [{ cidr: "2001:db8::/32", ports: [1] }, { cidr: "2001:db8::/32", ports: [443, 1] }] } } },
    agents: [{ name: "p8-agent", image: "openclaw/agent:latest", role: "p8" }],
  });
  const reversed: FirewallSpecProps = {
    ...spec,
    roles: { p8: { network: { egressCidrs: [{ cidr: "2001:db8::/32", ports: [443, 1] }, { cidr: "2001:db8::/32", ports: [1] }] } } },
  };

  it("plans the same CIDR list whichever order the entries come in", () => {
    const cidrs = (s: FirewallSpecProps) => compileFirewall(s).roles[0].egressCidrs;
    expect(cidrs(reversed)).toEqual(cidrs(spec));
    expect(cidrs(spec).map((c) => c.ports)).toEqual([[1], [1, 443]]);
  });

  it("synthesizes byte-identical JSON whichever order the entries come in", () => {
    expect(synth(reversed)).toBe(synth(spec));
    expect(synth(reorderSpec(spec, 1))).toBe(synth(spec));
  });
});

describe("invariant 7 (valid names): a one-character agent name", () => {
  // Docker container names match [a-zA-Z0-9][a-zA-Z0-9_.-]+, two characters at least; the
  // agent name pattern allowed one.
  it("is refused, with a longer name suggested", () => {
    const spec = minimal(AgentPlatform.DOCKER, { agents: [{ name: "a", image: "openclaw/agent:latest", role: "web" }] });
    expect(problemsOf(spec)).toEqual(['agents[0].name: agent name "a" has one character; Docker container names need at least two, so rename it (e.g. "a-agent")']);
  });

  it("a two-character agent gets a valid Docker container name", () => {
    const doc = JSON.parse(synth(minimal(AgentPlatform.DOCKER, { agents: [{ name: "ab", image: "openclaw/agent:latest", role: "web" }] })));
    const names = Object.values<any>(doc.resource.docker_container).map((c) => c.name);
    expect(names.sort()).toEqual(["ab", "rapidclaw-egress-proxy", "rapidclaw-events-redis", "rapidclaw-proxy-events"]);
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
  });
});

describe("invariant 7 (distinct names): an agent named like the proxy", () => {
  // Accepted before: the agent container (Docker) or Deployment (Kubernetes) and the proxy's
  // would both be named rapidclaw-egress-proxy, and apply would fail on the second.
  it.each([AgentPlatform.DOCKER, AgentPlatform.KUBERNETES])("is refused on %s", (platform) => {
    for (const name of ["rapidclaw-egress-proxy", "rapidclaw_egress_proxy"]) {
      const spec = minimal(platform, { agents: [{ name, image: "openclaw/agent:latest", role: "web" }] });
      expect(problemsOf(spec).join("\n")).toContain(`agents[0].name: agent name "${name}" starts with "rapidclaw-"`);
    }
  });
});

describe("agent environment: validation refuses what the constructs reserve", () => {
  it("refuses every variable in RESERVED_AGENT_ENV, and any RAPIDCLAW_ variable", () => {
    for (const name of [...RESERVED_AGENT_ENV, "RAPIDCLAW_ANYTHING", "Https_Proxy"]) {
      expect(isReservedEnvName(name), name).toBe(true);
      const spec = minimal(AgentPlatform.DOCKER, { agents: [{ name: "agent-one", image: "openclaw/agent:latest", role: "web", env: { [name]: "http://203.0.113.9:3128" } }] });
      expect(problemsOf(spec), name).toEqual([`agents[0].env.${name}: ${name} is set by the firewall (the role's proxy, profile and gateway) and cannot be overridden; remove it from env`]);
    }
  });

  it("keeps a Terraform-escaped $${ literal, and refuses an unescaped one", () => {
    const agent = (value: string) => minimal(AgentPlatform.DOCKER, { agents: [{ name: "agent-one", image: "openclaw/agent:latest", role: "web", env: { GREETING: value } }] });
    expect(problemsOf(agent("cost: $${AMOUNT} and 100%% {x}"))).toEqual([]);
    expect(problemsOf(agent("${random_password.keys_web-key.result}"))).toHaveLength(1);
    expect(problemsOf(agent("%{ if true }x%{ endif }"))).toHaveLength(1);
  });
});

describe("a role granting a tool named like an Object method", () => {
  // `tools["constructor"]` found Object.prototype.constructor, so the unknown tool passed and the
  // grant was silently dropped.
  it("is reported as an unknown tool", () => {
    const spec = minimal(AgentPlatform.DOCKER, { roles: { web: { tools: { constructor: "READ", toString: "READ" } as any } } });
    expect(problemsOf(spec)).toEqual([
      'roles.web.tools.constructor: unknown tool "constructor"; known tools: web',
      'roles.web.tools.toString: unknown tool "toString"; known tools: web',
    ]);
  });
});

describe("invariant 7 (names): NetworkPolicy names of long roles", () => {
  // `rapidclaw-role-<role>-egress` is 70 characters for a 48-character role. Kubernetes validates
  // NetworkPolicy names as DNS-1123 subdomains (at most 253), so this applies; it is longer than a
  // DNS label (63), which the other generated names stay within.
  it("is a valid NetworkPolicy name", () => {
    const role = "r".repeat(48);
    const doc = JSON.parse(synth(minimal(AgentPlatform.KUBERNETES, { roles: { [role]: {} } })));
    const names = Object.values<any>(doc.resource.kubernetes_network_policy_v1).map((p) => p.metadata.name);
    const long = names.find((n: string) => n.includes(role));
    expect(long).toBe(`rapidclaw-role-${role}-egress`);
    expect(long.length).toBe(70);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
  });
});

describe("names that once collided as construct ids", () => {
  const docker = minimal(AgentPlatform.DOCKER, { agents: [{ name: "image-0", image: "openclaw/agent:latest", role: "web" }] });
  const kubernetesServiceAccount = minimal(AgentPlatform.KUBERNETES, { agents: [{ name: "web-service-account", image: "openclaw/agent:latest", role: "web" }] });
  const kubernetesFiles = minimal(AgentPlatform.KUBERNETES, { agents: [{ name: "web-files", image: "openclaw/agent:latest", role: "web" }] });
  const externalAuthTool = minimal(AgentPlatform.KUBERNETES, { tools: { auth: { key: {} } }, roles: { web: { tools: { auth: "READ" } as any } }, vault: { keyMode: KeyMode.EXTERNAL } });

  it("are valid specs", () => {
    for (const spec of [docker, kubernetesServiceAccount, kubernetesFiles, externalAuthTool]) expect(problemsOf(spec)).toEqual([]);
  });

  // src/docker/agents.ts: agent containers use the agent's name as construct id, next
  // to the images `image-0`, `image-1`, ... ("There is already a Construct with name 'image-0'").
  it("Docker: an agent named image-0 synthesizes", () => {
    const doc = JSON.parse(synth(docker));
    expect(Object.values<any>(doc.resource.docker_container).map((c) => c.name).sort()).toEqual(["image-0", "rapidclaw-egress-proxy", "rapidclaw-events-redis", "rapidclaw-proxy-events"]);
  });

  // src/kubernetes/agents.ts: Deployments use the agent's name as construct id, next
  // to each role's `<role>-service-account` and `<role>-files`.
  it("Kubernetes: an agent named <role>-service-account synthesizes", () => {
    const doc = JSON.parse(synth(kubernetesServiceAccount));
    expect(Object.values<any>(doc.resource.kubernetes_deployment_v1).map((d) => d.metadata.name)).toContain("web-service-account");
  });

  it("Kubernetes: an agent named <role>-files synthesizes", () => {
    const doc = JSON.parse(synth(kubernetesFiles));
    expect(Object.values<any>(doc.resource.kubernetes_deployment_v1).map((d) => d.metadata.name)).toContain("web-files");
  });

  // src/constructs/scoped-agent-keys.ts: in KeyMode.EXTERNAL a tool's config endpoint has the id
  // `<tool>-config`, which for a tool named "auth" is the id of the Kubernetes auth backend config.
  it("Kubernetes, external keys: a tool named auth synthesizes", () => {
    const doc = JSON.parse(synth(externalAuthTool));
    expect(Object.keys(doc.resource.vault_generic_endpoint ?? {})).toHaveLength(1);
  });
});

describe("literal text reaches Terraform unchanged", () => {
  // Every string in Terraform JSON is a template: `${` starts an expression and `%{` a directive;
  // literal text must write them `$${` and `%%{`. The squid.conf the proxy constructs put into the
  // Docker upload (src/docker/egress-proxy.ts) and the Kubernetes ConfigMap
  // (src/kubernetes/egress-proxy.ts) holds Squid's own `%{...}` format codes
  // (`%{%Y-%m-%dT%H:%M:%S}tg`, `%{role}note`) unescaped, so Terraform refuses the configuration:
  // "Invalid template directive". Escape literal text where it enters a Terraform attribute.
  const literalStrings = (doc: unknown): string[] => {
    if (typeof doc === "string") return doc.includes("${") ? [] : [doc];
    if (Array.isArray(doc)) return doc.flatMap(literalStrings);
    if (doc && typeof doc === "object") return Object.values(doc).flatMap(literalStrings);
    return [];
  };
  const unescapedDirectives = (platform: AgentPlatform) =>
    literalStrings(JSON.parse(synth(seedSpec(platform)))).filter((text) => /%\{/.test(text.replace(/%%\{/g, "")));

  it("Docker: no literal string holds an unescaped %{", () => {
    expect(unescapedDirectives(AgentPlatform.DOCKER)).toEqual([]);
  });

  it("Kubernetes: no literal string holds an unescaped %{", () => {
    expect(unescapedDirectives(AgentPlatform.KUBERNETES)).toEqual([]);
  });

  // The same with the real consumer: `terraform validate` on the stack's literal strings as outputs
  // (the whole stack cannot be validated here: providers cannot be downloaded).
  const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" }).status === 0;
  (terraform ? it : it.skip)("terraform validate accepts the literal strings of both stacks", () => {
    const directory = mkdtempSync(join(tmpdir(), "rapidclaw-tf-literals-"));
    try {
      const strings = [AgentPlatform.DOCKER, AgentPlatform.KUBERNETES].flatMap((platform) => literalStrings(JSON.parse(synth(seedSpec(platform)))));
      const outputs = Object.fromEntries([...new Set(strings)].map((value, i) => [`literal_${i}`, { value }]));
      writeFileSync(join(directory, "main.tf.json"), JSON.stringify({ output: outputs }));
      const result = spawnSync("terraform", ["validate", "-no-color"], { cwd: directory, encoding: "utf8", env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null", CHECKPOINT_DISABLE: "1" } });
      expect(result.stdout + result.stderr).toContain("The configuration is valid");
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe("security review findings (issue 11)", () => {
  it("a multi-tenant wildcard passes only when repeated in multiTenantWildcards next to its list, and reaches the proxy", () => {
    const refused = minimal(AgentPlatform.KUBERNETES, { modelHosts: ["*.amazonaws.com"] });
    expect(problemsOf(refused).join("\n")).toMatch(/^modelHosts\[0\]: "\*\.amazonaws\.com" would allow hosts of many owners.*"bedrock-runtime\.us-east-1\.amazonaws\.com"/);
    const accepted = compileFirewall({ ...refused, multiTenantWildcards: ["*.AMAZONAWS.COM."] });
    expect(accepted.roles[0].proxyAllowlist.map((p) => `${p.wildcard ? "*." : ""}${p.domain}`)).toEqual(["*.amazonaws.com"]);
    const role = compileFirewall(minimal(AgentPlatform.KUBERNETES, {
      roles: { web: { network: { allowEgress: true, allowedHosts: ["*.nip.io"], multiTenantWildcards: ["*.nip.io"] } } },
    }));
    expect(role.roles[0].allowedHosts).toEqual(["*.nip.io"]);
    // Exact endpoints and a tenant's own subdomains need nothing.
    expect(problemsOf(minimal(AgentPlatform.KUBERNETES, { modelHosts: ["bedrock-runtime.us-east-1.amazonaws.com", "*.myaccount.blob.core.windows.net", "*.bedrock-runtime.us-east-1.amazonaws.com"] }))).toEqual([]);
  });

  it("every shared domain's sample rule is a public suffix in the list tldts ships", async () => {
    const { parse } = await import("tldts");
    const { MULTI_TENANT_DOMAINS } = await import("../src/model/multi-tenant-domains");
    for (const { domain, suffixBelow } of MULTI_TENANT_DOMAINS) {
      expect(parse(domain, { allowPrivateDomains: true }).publicSuffix, domain).not.toBe(domain);
      if (suffixBelow) {
        expect(suffixBelow.endsWith(`.${domain}`), suffixBelow).toBe(true);
        expect(parse(`x.${suffixBelow}`, { allowPrivateDomains: true }).publicSuffix, suffixBelow).toBe(suffixBelow);
      }
    }
  });

  it("public and broad ranges pass with their acknowledgement on the entry, and only then", () => {
    const withCidr = (entry: Record<string, unknown>) =>
      minimal(AgentPlatform.KUBERNETES, { roles: { web: { network: { egressCidrs: [{ ports: [443], ...entry } as never] } } } });
    expect(problemsOf(withCidr({ cidr: "52.94.0.0/16" }))).toHaveLength(1);
    expect(problemsOf(withCidr({ cidr: "52.94.0.0/16", allowPublic: true }))).toEqual([]);
    expect(problemsOf(withCidr({ cidr: "64.0.0.0/3", allowPublic: true }))).toHaveLength(1);
    expect(problemsOf(withCidr({ cidr: "64.0.0.0/3", allowPublic: true, allowBroad: true }))).toEqual([]);
    expect(problemsOf(withCidr({ cidr: "fd12:3456::/48" }))).toEqual([]);
    expect(problemsOf(withCidr({ cidr: "10.0.0.0/8" }))).toEqual([]);
  });

  it("names JavaScript objects carry are refused by validation, never a crash in synthesis", () => {
    for (const platform of [AgentPlatform.DOCKER, AgentPlatform.KUBERNETES]) {
      const spec = minimal(platform, { tools: { constructor: {} }, roles: { constructor: {} }, agents: [{ name: "constructor", image: "x/agent:1", role: "constructor" }] });
      expect(() => synth(spec)).toThrow(FirewallSpecError);
      expect(problemsOf(spec).map((p) => p.split(":")[0]).sort()).toEqual(["agents[0].name", "roles.constructor", "tools.constructor"]);
    }
  });
});

describe("terraformLiteral", () => {
  // `"$${"` as a replacement string is `${` again (`$$` escapes `$`), so `${` reached Terraform unescaped.
  it("escapes ${ and %{ so Terraform reads the text back unchanged", () => {
    expect(terraformLiteral("a ${b} %{c} $${d}")).toBe("a $${b} %%{c} $$${d}");
  });
});
