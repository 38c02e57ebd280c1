import { spawnSync } from "node:child_process";
import { App, TerraformStack, Testing } from "cdktf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { HostEgressFirewall } from "../src/constructs/host-egress-firewall";
import {
  HostFirewallAction,
  HostFirewallError,
  hostFirewallChain,
  renderHostFirewall,
  renderHostFirewallRuleset,
  type HostFirewallOptions,
} from "../src/render/host-firewall";
import { metadataAddressProblem, metadataEndpointIn, parseCidr, type Network } from "../src/model/addresses";
import { missingPrerequisites, onPath, skipLoudly } from "./e2e/support/prerequisites";

const BASE: HostFirewallOptions = {
  users: ["agent", "1001"],
  dnsResolvers: ["10.0.0.2", "fd00::53"],
  dnsReason: "the licensing agent resolves its server",
  proxyEndpoints: [
    { address: "10.0.0.3", port: 3128 },
    { address: "fd00::3", port: 3128 },
  ],
  cidrs: [
    { cidr: "10.20.0.0/16", ports: [5432, 443] },
    { cidr: "fd00:20::/32", ports: [6379] },
  ],
};

/** The message of the HostFirewallError that rendering these options throws. */
function problemsOf(options: unknown): string[] {
  try {
    renderHostFirewall(options as HostFirewallOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(HostFirewallError);
    return (error as HostFirewallError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error("rendering did not fail");
}

describe("host firewall options are validated, each problem named by its field with a fix", () => {
  it.each([
    { field: "users", options: { ...BASE, users: [] }, expected: /^users: list at least one agent user/ },
    { field: "users", options: { dnsResolvers: [] }, expected: /^users: missing; list the agent users/ },
    { field: "users[0]", options: { ...BASE, users: ["Bad User"] }, expected: /^users\[0\]: "Bad User" is not a valid user name; use letters/ },
    { field: "users[0]", options: { ...BASE, users: ["-rf"] }, expected: /^users\[0\]: "-rf" is not a valid user name/ },
    { field: "users[1]", options: { ...BASE, users: ["agent", "root"] }, expected: /^users\[1\]: "root" could remove the firewall; run the agent as an unprivileged user/ },
    { field: "users[0]", options: { ...BASE, users: ["0"] }, expected: /^users\[0\]: uid 0 is root/ },
    { field: "users[0]", options: { ...BASE, users: ["4294967295"] }, expected: /^users\[0\]: uid 4294967295 is out of range; uids run from 1 to 4294967294/ },
    { field: "users[0]", options: { ...BASE, users: [1001] }, expected: /^users\[0\]: 1001 must be a string: a user name or a numeric uid such as "1001"/ },
    { field: "dnsResolvers[0]", options: { ...BASE, dnsResolvers: ["dns.google"] }, expected: /^dnsResolvers\[0\]: "dns.google" is not an IPv4 or IPv6 address; write one such as 10.0.0.2/ },
    { field: "dnsResolvers[1]", options: { ...BASE, dnsResolvers: ["10.0.0.2", "10.0.0.256"] }, expected: /^dnsResolvers\[1\]: "10.0.0.256" is not an IPv4 or IPv6 address/ },
    { field: "dnsResolvers[0]", options: { ...BASE, dnsResolvers: ["10.0.0.0/24"] }, expected: /^dnsResolvers\[0\]: "10.0.0.0\/24" is not an IPv4 or IPv6 address/ },
    { field: "proxyEndpoints[0].address", options: { ...BASE, proxyEndpoints: [{ address: "proxy.internal", port: 3128 }] }, expected: /^proxyEndpoints\[0\]\.address: "proxy.internal" is not an IPv4 or IPv6 address/ },
    { field: "proxyEndpoints[0].port", options: { ...BASE, proxyEndpoints: [{ address: "10.0.0.3", port: 65536 }] }, expected: /^proxyEndpoints\[0\]\.port: 65536 is not a TCP port; use an integer from 1 to 65535/ },
    { field: "proxyEndpoints[0].port", options: { ...BASE, proxyEndpoints: [{ address: "10.0.0.3", port: 0 }] }, expected: /^proxyEndpoints\[0\]\.port: 0 is not a TCP port/ },
    { field: "cidrs[0].cidr", options: { ...BASE, cidrs: [{ cidr: "10.20.0.1/16", ports: [443] }] }, expected: /^cidrs\[0\]\.cidr: "10.20.0.1\/16" has host bits set; did you mean "10.20.0.0\/16"\?/ },
    { field: "cidrs[0].cidr", options: { ...BASE, cidrs: [{ cidr: "10.20.0.0", ports: [443] }] }, expected: /^cidrs\[0\]\.cidr: "10.20.0.0" is not in CIDR notation; write an address and a prefix length/ },
    { field: "cidrs[0].cidr", options: { ...BASE, cidrs: [{ cidr: "0.0.0.0/0", ports: [443] }] }, expected: /^cidrs\[0\]\.cidr: "0.0.0.0\/0" is the whole internet; send web traffic through the proxy/ },
    { field: "cidrs[0].cidr", options: { ...BASE, cidrs: [{ cidr: "::/0", ports: [443] }] }, expected: /^cidrs\[0\]\.cidr: "::\/0" is the whole internet/ },
    { field: "cidrs[0].ports", options: { ...BASE, cidrs: [{ cidr: "10.20.0.0/16", ports: [] }] }, expected: /^cidrs\[0\]\.ports: list at least one TCP port/ },
    // Metadata endpoints of the major clouds, in ranges and as single addresses.
    { field: "cidrs[0].cidr", options: { ...BASE, cidrs: [{ cidr: "100.100.100.0/24", ports: [80] }] }, expected: /^cidrs\[0\]\.cidr: "100.100.100.0\/24" contains 100.100.100.200, the Alibaba Cloud metadata service/ },
    { field: "cidrs[0].cidr", options: { ...BASE, cidrs: [{ cidr: "fd00:ec2::/64", ports: [80] }] }, expected: /^cidrs\[0\]\.cidr: "fd00:ec2::\/64" contains fd00:ec2::254, the AWS instance metadata service over IPv6/ },
    { field: "cidrs[0].cidr", options: { ...BASE, cidrs: [{ cidr: "169.254.170.0/24", ports: [80] }] }, expected: /^cidrs\[0\]\.cidr: "169.254.170.0\/24" contains 169.254.170.2, the AWS ECS task metadata/ },
    { field: "dnsResolvers[0]", options: { ...BASE, dnsResolvers: ["169.254.169.254"] }, expected: /^dnsResolvers\[0\]: 169.254.169.254 is the instance metadata service/ },
    { field: "proxyEndpoints[0].address", options: { ...BASE, proxyEndpoints: [{ address: "169.254.170.23", port: 80 }] }, expected: /^proxyEndpoints\[0\]\.address: 169.254.170.23 is the AWS EKS Pod Identity agent/ },
    // Near-whole-internet and public ranges need an acknowledgement on the entry.
    { field: "cidrs[0].cidr", options: { ...BASE, cidrs: [{ cidr: "0.0.0.0/1", ports: [443] }] }, expected: /^cidrs\[0\]\.cidr: "0.0.0.0\/1" spans more than a \/8; .*set allowBroad: true/ },
    { field: "cidrs[0].cidr", options: { ...BASE, cidrs: [{ cidr: "8000::/1", ports: [443] }] }, expected: /^cidrs\[0\]\.cidr: "8000::\/1" spans more than a \/32/ },
    { field: "cidrs[0].cidr", options: { ...BASE, cidrs: [{ cidr: "8.8.8.0/24", ports: [443] }] }, expected: /^cidrs\[0\]\.cidr: "8.8.8.0\/24" holds public internet addresses.*set allowPublic: true/ },
    { field: "cidrs[0].cidr", options: { ...BASE, cidrs: [{ cidr: "0.0.0.0/1", ports: [443], allowBroad: true }] }, expected: /^cidrs\[0\]\.cidr: "0.0.0.0\/1" contains 100.100.100.200/ },
    { field: "cidrs[0].cidr", options: { ...BASE, cidrs: [{ cidr: "2a00::/16", ports: [443], allowBroad: true }] }, expected: /^cidrs\[0\]\.cidr: "2a00::\/16" holds public internet addresses/ },
    // The boot unit runs the apply script by this path.
    { field: "scriptDirectory", options: { ...BASE, scriptDirectory: "usr/local/sbin" }, expected: /^scriptDirectory: "usr\/local\/sbin" is not usable: .*write an absolute path/ },
    { field: "scriptDirectory", options: { ...BASE, scriptDirectory: "/opt/my scripts" }, expected: /^scriptDirectory: "\/opt\/my scripts" is not usable/ },
    { field: "scriptDirectory", options: { ...BASE, scriptDirectory: "/opt/x\nExecStartPre=/bin/evil" }, expected: /^scriptDirectory: "\/opt\/x\\nExecStartPre=\/bin\/evil" is not usable/ },
    { field: "cidrs[0].ports[1]", options: { ...BASE, cidrs: [{ cidr: "10.20.0.0/16", ports: [443, 70000] }] }, expected: /^cidrs\[0\]\.ports\[1\]: 70000 is not a TCP port/ },
    { field: "namePrefix", options: { ...BASE, namePrefix: "rapid claw" }, expected: /^namePrefix: "rapid claw" is not usable in a chain name; use letters, digits/ },
    { field: "namePrefix", options: { ...BASE, namePrefix: "A".repeat(22) }, expected: /^namePrefix: "A{22}" is not usable in a chain name.*at most 21 characters/ },
    { field: "logPrefix", options: { ...BASE, logPrefix: 'say "hi"' }, expected: /^logPrefix: "say \\"hi\\"" is not a usable log prefix; use at most 29 characters/ },
    { field: "logPrefix", options: { ...BASE, logPrefix: "x".repeat(30) }, expected: /^logPrefix: "x{30}" is not a usable log prefix/ },
    { field: "logRatePerMinute", options: { ...BASE, logRatePerMinute: 0 }, expected: /^logRatePerMinute: 0 must be an integer from 1 to 10000/ },
    { field: "logBurst", options: { ...BASE, logBurst: 1.5 }, expected: /^logBurst: 1.5 must be an integer from 1 to 10000/ },
    { field: "action", options: { ...BASE, action: "ACCEPT" }, expected: /^action: "ACCEPT" is not an action; use HostFirewallAction.REJECT or HostFirewallAction.DROP/ },
  ])("$field: $expected", ({ options, expected }) => {
    const problems = problemsOf(options);
    expect(problems.some((p) => expected.test(p)), problems.join("\n")).toBe(true);
  });

  it("lists every problem at once, not only the first", () => {
    const problems = problemsOf({ users: ["root"], dnsResolvers: ["x"], proxyEndpoints: [{ address: "10.0.0.3", port: -1 }], namePrefix: "" });
    expect(problems.map((p) => p.split(":")[0])).toEqual(["users[0]", "dnsResolvers[0]", "proxyEndpoints[0].port", "namePrefix"]);
    expect(() => renderHostFirewall({ users: ["root"] })).toThrow(/invalid host firewall options: 1 problem\n {2}- users\[0\]: "root"/);
  });
});

/** The `-A` lines of a rendered ruleset. */
const appendLines = (ruleset: string) => ruleset.split("\n").filter((line) => line.startsWith("-A "));

describe("rendered rules", () => {
  it("confine only through the firewall's own chain, allowing with RETURN so existing host rules still apply", () => {
    const chain = hostFirewallChain(BASE);
    expect(chain).toBe("RAPIDCLAW-EGRESS");
    const v4 = renderHostFirewallRuleset(BASE, 4);
    expect(v4.split("\n").slice(0, 2)).toEqual(["*filter", `:${chain} - [0:0]`]);
    expect(v4.endsWith("COMMIT\n")).toBe(true);
    expect(appendLines(v4)).toEqual([
      `-A ${chain} -o lo -d 127.0.0.0/8 -j RETURN`,
      `-A ${chain} -m conntrack --ctstate ESTABLISHED,RELATED --ctdir ORIGINAL -j RETURN`,
      `-A ${chain} -d 10.0.0.2/32 -p udp -m udp --dport 53 -j RETURN`,
      `-A ${chain} -d 10.0.0.2/32 -p tcp -m tcp --dport 53 -j RETURN`,
      `-A ${chain} -d 10.0.0.3/32 -p tcp -m tcp --dport 3128 -j RETURN`,
      `-A ${chain} -d 10.20.0.0/16 -p tcp -m tcp --dport 443 -j RETURN`,
      `-A ${chain} -d 10.20.0.0/16 -p tcp -m tcp --dport 5432 -j RETURN`,
      `-A ${chain} -m limit --limit 10/minute --limit-burst 5 -j LOG --log-prefix "rapidclaw-blocked: " --log-level 4 --log-uid`,
      `-A ${chain} -p tcp -j REJECT --reject-with tcp-reset`,
      `-A ${chain} -j REJECT --reject-with icmp-admin-prohibited`,
    ]);
    const v6 = appendLines(renderHostFirewallRuleset(BASE, 6));
    expect(v6).toContain(`-A ${chain} -o lo -d ::1/128 -j RETURN`);
    expect(v6).toContain(`-A ${chain} -d fd00::53/128 -p udp -m udp --dport 53 -j RETURN`);
    expect(v6).toContain(`-A ${chain} -d fd00:20::/32 -p tcp -m tcp --dport 6379 -j RETURN`);
    expect(v6[v6.length - 1]).toBe(`-A ${chain} -j REJECT --reject-with icmp6-adm-prohibited`);
    expect(v6.join("\n")).not.toMatch(/10\.0\.0|10\.20/);
    for (const line of [...appendLines(v4), ...v6]) expect(line).not.toMatch(/ACCEPT|--uid-owner|OUTPUT/);
  });

  it("honour the options: prefix, log settings, DROP, no loopback, canonical and de-duplicated addresses", () => {
    const options: HostFirewallOptions = {
      users: ["007", "7"],
      dnsResolvers: ["FD00:0:0::53", "fd00::53"],
      dnsReason: "the licensing agent resolves its server",
      proxyEndpoints: [{ address: "10.0.0.3", port: 3128 }, { address: "10.0.0.3", port: 3128 }],
      namePrefix: "AGENTS_1",
      logPrefix: "agents [blocked]: ",
      logRatePerMinute: 60,
      logBurst: 20,
      action: HostFirewallAction.DROP,
      allowLoopback: false,
    };
    const v4 = appendLines(renderHostFirewallRuleset(options, 4));
    const v6 = appendLines(renderHostFirewallRuleset(options, 6));
    expect(v4.filter((l) => l.includes("--dport 3128"))).toHaveLength(1);
    expect(v6.filter((l) => l.includes("fd00::53/128"))).toHaveLength(2);
    expect([...v4, ...v6].some((l) => l.includes("-o lo"))).toBe(false);
    expect(v4).toContain('-A AGENTS_1-EGRESS -m limit --limit 60/minute --limit-burst 20 -j LOG --log-prefix "agents [blocked]: " --log-level 4 --log-uid');
    expect(v4[v4.length - 1]).toBe("-A AGENTS_1-EGRESS -j DROP");
    expect(renderHostFirewall(options).applyScript).toContain("for user in '7'; do");
  });

  it("scripts are POSIX sh that feeds exactly these rulesets to iptables-restore --noflush, and never flushes OUTPUT", () => {
    const { applyScript, uninstallScript } = renderHostFirewall(BASE);
    for (const version of [4, 6] as const) {
      const tool = version === 4 ? "iptables" : "ip6tables";
      expect(applyScript).toContain(`apply_family ${tool} <<'RAPIDCLAW_RULES'\n${renderHostFirewallRuleset(BASE, version)}RAPIDCLAW_RULES\n`);
    }
    expect(applyScript).toContain('"$1-restore" -w --noflush');
    for (const script of [applyScript, uninstallScript]) {
      expect(script.startsWith("#!/bin/sh\n")).toBe(true);
      expect(script).toContain("\nset -eu\n");
      expect(script).not.toMatch(/--flush|--delete-chain|--policy|-t |--table/);
    }
    // No flush, chain deletion or policy change in apply; in uninstall only of the firewall's own chain.
    expect(applyScript).not.toMatch(/ -[FXPZ] /);
    expect(uninstallScript.match(/ -[FXPZ] .*/g)).toEqual([' -F "$CHAIN"', ' -X "$CHAIN"']);
    expect(applyScript).toContain("CHAIN=RAPIDCLAW-EGRESS\n");
    expect(applyScript).toContain("for user in 'agent' '1001'; do");
  });

  it.skipIf(skipLoudly("sh -n syntax check of the host firewall scripts", onPath("sh") ? undefined : "no sh on PATH"))(
    "scripts parse with sh -n",
    () => {
      const { applyScript, uninstallScript } = renderHostFirewall(BASE);
      for (const script of [applyScript, uninstallScript]) {
        const result = spawnSync("sh", ["-n"], { input: script, encoding: "utf8" });
        expect(result.stderr).toBe("");
        expect(result.status).toBe(0);
      }
    },
  );
});

/** Valid options, drawn widely; networks are built with their host bits cleared. */
const ipv4Network = fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 32 })).map(([address, prefix]) => {
  const parsed = parseCidr(`${address}/32`) as Network;
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(32 - prefix);
  const base = parsed.base & mask;
  return `${[24n, 16n, 8n, 0n].map((s) => ((base >> s) & 0xffn).toString()).join(".")}/${prefix}`;
});
const port = fc.integer({ min: 1, max: 65535 });
const notMetadata = (address: string) => metadataAddressProblem(address) === undefined;
const address = fc.oneof(fc.ipV4(), fc.ipV6()).filter(notMetadata);
/** Any range but one holding a metadata endpoint; broad and public ones carry their acknowledgements. */
const cidrArb = fc
  .record({ cidr: fc.oneof(ipv4Network, fc.ipV6().map((a) => `${a}/128`)), ports: fc.array(port, { minLength: 1, maxLength: 4 }) })
  .filter(({ cidr }) => metadataEndpointIn(parseCidr(cidr) as Network) === undefined)
  .map((entry) => ({ ...entry, allowPublic: true, allowBroad: true }));
const optionsArb: fc.Arbitrary<HostFirewallOptions> = fc.record(
  {
    users: fc.array(fc.oneof(fc.integer({ min: 1, max: 4_294_967_294 }).map(String), fc.stringMatching(/^[a-z_][a-z0-9_-]{0,20}$/).filter((u) => u !== "root")), { minLength: 1, maxLength: 4 }),
    dnsResolvers: fc.array(address, { maxLength: 3 }),
    proxyEndpoints: fc.array(fc.record({ address, port }), { maxLength: 3 }),
    cidrs: fc.array(cidrArb, { maxLength: 3 }),
    allowLoopback: fc.boolean(),
    dnsReason: fc.constant("the licensing agent resolves its server"),
    action: fc.constantFrom(HostFirewallAction.REJECT, HostFirewallAction.DROP),
    logRatePerMinute: fc.integer({ min: 1, max: 10_000 }),
  },
  { requiredKeys: ["users"] },
).map((options) => ((options.dnsResolvers ?? []).length > 0 && options.dnsReason === undefined ? { ...options, dnsReason: "the licensing agent resolves its server" } : options));

/** Every destination an option set allows, per family, as `address/prefix proto port`. */
function expectedAllows(options: HostFirewallOptions, version: 4 | 6): Set<string> {
  const network = (text: string) => parseCidr(text.includes("/") ? text : `${text}/${text.includes(":") ? 128 : 32}`) as Network;
  const out = new Set<string>();
  for (const r of options.dnsResolvers ?? []) if (network(r).version === version) for (const p of ["udp", "tcp"]) out.add(`${network(r).text} ${p} 53`);
  for (const e of options.proxyEndpoints ?? []) if (network(e.address).version === version) out.add(`${network(e.address).text} tcp ${e.port}`);
  for (const c of options.cidrs ?? []) if (network(c.cidr).version === version) for (const p of c.ports) out.add(`${network(c.cidr).text} tcp ${p}`);
  return out;
}

describe("rendered rules, for any valid options (property)", () => {
  it("allow exactly the listed destinations per family, once each, and end in a refusal", () => {
    fc.assert(
      fc.property(optionsArb, (options) => {
        const { applyScript, uninstallScript } = renderHostFirewall(options);
        // Terraform reads `${` and `%{` as template syntax in any string (outputs, user data).
        expect(applyScript + uninstallScript).not.toMatch(/[$%]\{/);
        for (const version of [4, 6] as const) {
          const lines = appendLines(renderHostFirewallRuleset(options, version));
          const allows = lines
            .map((l) => / -d (\S+) -p (tcp|udp) -m \2 --dport (\d+) -j RETURN$/.exec(l))
            .filter((m): m is RegExpExecArray => m !== null)
            .map((m) => `${m[1]} ${m[2]} ${m[3]}`);
          expect(allows.length).toBe(new Set(allows).size);
          expect(new Set(allows)).toEqual(expectedAllows(options, version));
          expect(lines[lines.length - 1]).toMatch(/-j (DROP|REJECT)/);
        }
      }),
      { numRuns: 300 },
    );
  });
});

const RESTORE_SKIP = skipLoudly(
  "iptables-restore --test of rendered rulesets",
  missingPrerequisites(["unshare", "iptables-restore", "ip6tables-restore"], { namespaces: true }),
);

/** Runs `<tool> --test` on a ruleset inside a throwaway network namespace (nothing on the host changes). */
function restoreTest(tool: string, ruleset: string): { status: number | null; stderr: string } {
  const result = spawnSync("unshare", ["--net", tool, "--test"], { input: ruleset, encoding: "utf8", timeout: 10_000 });
  return { status: result.status, stderr: result.stderr };
}

const RESTORE_TOOLS: Record<4 | 6, string[]> = {
  4: ["iptables-restore", ...(onPath("iptables-legacy-restore") ? ["iptables-legacy-restore"] : [])],
  6: ["ip6tables-restore", ...(onPath("ip6tables-legacy-restore") ? ["ip6tables-legacy-restore"] : [])],
};

describe.skipIf(RESTORE_SKIP)("rendered rulesets are accepted by the real iptables-restore --test", () => {
  it.each([
    { name: "defaults", options: BASE },
    { name: "DROP, no loopback, custom log", options: { ...BASE, action: HostFirewallAction.DROP, allowLoopback: false, logPrefix: "agents [x]: ", logRatePerMinute: 1, logBurst: 1 } },
    { name: "users only (nothing but loopback allowed)", options: { users: ["nobody"] } },
  ])("$name", ({ options }) => {
    for (const version of [4, 6] as const) {
      for (const tool of RESTORE_TOOLS[version]) {
        const result = restoreTest(tool, renderHostFirewallRuleset(options, version));
        expect(result, `${tool}`).toEqual({ status: 0, stderr: "" });
      }
    }
  });

  it("for any valid options (property)", () => {
    fc.assert(
      fc.property(optionsArb, (options) => {
        for (const version of [4, 6] as const) {
          const result = restoreTest(RESTORE_TOOLS[version][0], renderHostFirewallRuleset(options, version));
          expect(result).toEqual({ status: 0, stderr: "" });
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe("HostEgressFirewall construct", () => {
  const synth = (props: HostFirewallOptions & { scriptDirectory?: string }, id = "agent-vm") => {
    const stack = new TerraformStack(Testing.app() as App, "stack");
    const firewall = new HostEgressFirewall(stack, id, props);
    return { firewall, doc: JSON.parse(Testing.synth(stack)) };
  };

  it("renders the scripts and outputs them, plus cloud-init, under names led by its id", () => {
    const { firewall, doc } = synth(BASE);
    expect(firewall.applyScript).toBe(renderHostFirewall(BASE).applyScript);
    expect(firewall.uninstallScript).toBe(renderHostFirewall(BASE).uninstallScript);
    expect(Object.keys(doc.output).sort()).toEqual(["agent-vm_apply_script", "agent-vm_cloud_init", "agent-vm_uninstall_script"]);
    // Terraform gets the texts verbatim (no template syntax in them), and nothing is secret.
    expect(doc.output["agent-vm_apply_script"].value).toBe(firewall.applyScript);
    expect(doc.output["agent-vm_uninstall_script"].value).toBe(firewall.uninstallScript);
    expect(doc.output["agent-vm_cloud_init"].value).toBe(firewall.cloudInit);
    for (const output of Object.values<Record<string, unknown>>(doc.output)) expect(output.sensitive).toBeUndefined();
  });

  it("cloud-init writes both scripts and a boot unit, applies at once and enables the unit", () => {
    const { firewall } = synth({ ...BASE, namePrefix: "AGENTFW", scriptDirectory: "/opt/rapidclaw/bin/" });
    expect(firewall.cloudInit.startsWith("#cloud-config\n")).toBe(true);
    const doc = parseYaml(firewall.cloudInit);
    expect(doc.write_files).toEqual([
      { path: "/opt/rapidclaw/bin/agentfw-egress-apply", owner: "root:root", permissions: "0755", content: firewall.applyScript },
      { path: "/opt/rapidclaw/bin/agentfw-egress-uninstall", owner: "root:root", permissions: "0755", content: firewall.uninstallScript },
      { path: "/etc/systemd/system/agentfw-egress.service", owner: "root:root", permissions: "0644", content: firewall.systemdUnit },
    ]);
    expect(doc.runcmd[0]).toEqual(["/opt/rapidclaw/bin/agentfw-egress-apply"]);
    expect(doc.runcmd[1].join(" ")).toContain("systemctl enable agentfw-egress.service");
    expect(firewall.systemdUnit).toContain("ExecStart=/opt/rapidclaw/bin/agentfw-egress-apply\n");
    expect(firewall.applyScript).toContain("CHAIN=AGENTFW-EGRESS\n");
  });

  it("synthesizes byte-identical output for the same props", () => {
    expect(JSON.stringify(synth(BASE).doc)).toBe(JSON.stringify(synth(BASE).doc));
  });

  it("fails at construction, before synthesis, on invalid props", () => {
    expect(() => synth({ ...BASE, users: [] })).toThrow(/users: list at least one agent user/);
    expect(() => synth({ ...BASE, scriptDirectory: "bin" })).toThrow(/scriptDirectory: "bin" is not usable: .*absolute path/);
  });

  it("takes a public or broad range with its acknowledgement on the entry", () => {
    const cidrs = [{ cidr: "52.94.0.0/16", ports: [443], allowPublic: true }, { cidr: "64.0.0.0/3", ports: [443], allowPublic: true, allowBroad: true }];
    expect(appendLines(renderHostFirewallRuleset({ ...BASE, cidrs }, 4))).toEqual(
      expect.arrayContaining(["-A RAPIDCLAW-EGRESS -d 52.94.0.0/16 -p tcp -m tcp --dport 443 -j RETURN", "-A RAPIDCLAW-EGRESS -d 64.0.0.0/3 -p tcp -m tcp --dport 443 -j RETURN"]),
    );
  });

  it("gives output names Terraform accepts for any construct id", () => {
    const { doc } = synth(BASE, "9 vm.a");
    for (const name of Object.keys(doc.output)) expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_-]*$/);
  });
});
