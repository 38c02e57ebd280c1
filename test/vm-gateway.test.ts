import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gatewayCommand } from "../src/cli/gateway-command";
import { HostEgressFirewall } from "../src/constructs/host-egress-firewall";
import { GatewayServiceError, HostFirewallError } from "../src/model/errors";
import type { HostFirewallOptions } from "../src/model/host-firewall-types";
import { AgentPlatform, type FirewallSpecProps } from "../src/model/types";
import { hostFirewallInstall } from "../src/plan/host-firewall-names";
import { renderGatewayServiceUnit } from "../src/render/gateway-service-unit";
import { renderHostFirewallRuleset } from "../src/render/host-firewall/ruleset";
import { renderHostFirewall } from "../src/render/host-firewall/scripts";
import { renderHostFirewallUnit } from "../src/render/host-firewall/boot-unit";
import { missingPrerequisites, onPath, skipLoudly } from "./e2e/support/prerequisites";

const SPEC: FirewallSpecProps = {
  platform: AgentPlatform.DOCKER,
  modelHosts: ["api.anthropic.com"],
  tools: { web_search: { upstream: "https://search.example.com", key: {} } },
  roles: { research: { tools: { web_search: "READ" as never } }, support: {} },
  agents: [],
};

function problemsOf(render: () => unknown): string[] {
  try {
    render();
  } catch (error) {
    if (error instanceof HostFirewallError || error instanceof GatewayServiceError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  throw new Error("did not fail");
}

/** `[section] key=value` pairs, checking that every line is a section, a key=value line or blank. */
function parseUnit(unit: string): Array<[string, string, string]> {
  let section = "";
  return unit.split("\n").flatMap((line): Array<[string, string, string]> => {
    if (line === "") return [];
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      section = header[1];
      return [];
    }
    const pair = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!pair || section === "") throw new Error(`not a unit line: ${JSON.stringify(line)}`);
    return [[section, pair[1], pair[2]]];
  });
}

describe("gateway systemd unit", () => {
  const unit = renderGatewayServiceUnit();
  const entries = parseUnit(unit);
  const value = (key: string) => entries.filter(([, k]) => k === key).map(([, , v]) => v);

  it("runs the package's bundle under node as a dedicated user, on loopback, Redis URL from the environment file", () => {
    expect(value("ExecStart")).toEqual([
      "/usr/bin/node /usr/local/lib/node_modules/@rapidclaw/agent-firewall/dist/gateway/rapidclaw-gateway.cjs gateway --config /etc/rapidclaw/firewall.yaml --key-dir /etc/rapidclaw/keys --listen-host 127.0.0.1 --admin-host 127.0.0.1",
    ]);
    expect(value("User")).toEqual(["rapidclaw-gateway"]);
    expect(value("EnvironmentFile")).toEqual(["/etc/rapidclaw/gateway.env"]);
    expect(value("ReadOnlyPaths")).toEqual(["/etc/rapidclaw/keys"]);
    expect(value("Restart")).toEqual(["on-failure"]);
    expect(value("MemoryMax")).toEqual(["512M"]);
    expect(unit).not.toContain("redis://");
  });

  it("is hardened: no capabilities or new privileges, read-only system, no homes, private /tmp, Internet and Unix sockets only", () => {
    for (const [key, expected] of Object.entries({
      NoNewPrivileges: "yes", CapabilityBoundingSet: "", AmbientCapabilities: "", ProtectSystem: "strict", ProtectHome: "yes", PrivateTmp: "yes",
      PrivateDevices: "yes", RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX", RestrictSUIDSGID: "yes", UMask: "0077",
    })) expect(value(key), key).toEqual([expected]);
    // V8's JIT needs writable, executable memory.
    expect(value("MemoryDenyWriteExecute")).toEqual([]);
  });

  it("takes paths, user, listen address, memory and a unit to start after", () => {
    const custom = parseUnit(renderGatewayServiceUnit({
      user: "gw", nodePath: "/opt/node/bin/node", gatewayPath: "/opt/rc/gw.cjs", configPath: "/srv/fw.json", keyDirectory: "/run/keys",
      environmentFile: "/srv/gw.env", listenHost: "::1", memoryMax: "1G", after: "rapidclaw-egress.service",
    }));
    const get = (key: string) => custom.filter(([, k]) => k === key).map(([, , v]) => v);
    expect(get("ExecStart")).toEqual(["/opt/node/bin/node /opt/rc/gw.cjs gateway --config /srv/fw.json --key-dir /run/keys --listen-host ::1 --admin-host ::1"]);
    expect(get("After")).toEqual(["network-online.target rapidclaw-egress.service"]);
    expect(get("Requires")).toEqual(["rapidclaw-egress.service"]);
    expect([get("User"), get("EnvironmentFile"), get("ReadOnlyPaths"), get("MemoryMax")]).toEqual([["gw"], ["/srv/gw.env"], ["/run/keys"], ["1G"]]);
  });

  it("refuses every bad option at once, by name, with a fix", () => {
    const problems = problemsOf(() => renderGatewayServiceUnit({
      user: "root", nodePath: "node", configPath: "/etc/my fw.yaml", keyDirectory: "/keys/%i", environmentFile: "/x\nExecStartPre=/bin/sh",
      listenHost: "localhost", memoryMax: "lots", after: "egress",
    }));
    expect(problems.map((p) => p.split(":")[0])).toEqual(["user", "nodePath", "configPath", "keyDirectory", "environmentFile", "listenHost", "memoryMax", "after"]);
    expect(problems[0]).toMatch(/name a dedicated system user/);
    expect(problems[1]).toMatch(/write an absolute path/);
  });

  const ANALYZE_SKIP = skipLoudly("systemd-analyze checks of the gateway unit", onPath("systemd-analyze") ? undefined : "systemd-analyze is not installed (apt-get install systemd)");
  describe.skipIf(ANALYZE_SKIP)("systemd-analyze (systemd from Debian)", () => {
    it("verify accepts the unit next to the host firewall's boot unit it requires, without a warning", () => {
      const dir = mkdtempSync(join(tmpdir(), "hvm-unit-"));
      try {
        const install = hostFirewallInstall("RAPIDCLAW", dir);
        writeFileSync(install.applyPath, renderHostFirewall({ users: ["nobody"], scriptDirectory: dir }).applyScript);
        chmodSync(install.applyPath, 0o755);
        writeFileSync(join(dir, install.unitName), renderHostFirewallUnit(install));
        writeFileSync(join(dir, "rapidclaw-gateway.service"), renderGatewayServiceUnit({ nodePath: process.execPath, after: install.unitName }));
        const result = spawnSync("systemd-analyze", ["verify", join(dir, install.unitName), join(dir, "rapidclaw-gateway.service")], { encoding: "utf8" });
        expect(result.stderr + result.stdout).toBe("");
        expect(result.status).toBe(0);
        // A unit systemd would reject makes verify fail here: the check can fail.
        writeFileSync(join(dir, "rapidclaw-gateway.service"), renderGatewayServiceUnit({ nodePath: process.execPath }).replace("Restart=on-failure", "Restart=sometimes"));
        const bad = spawnSync("systemd-analyze", ["verify", join(dir, "rapidclaw-gateway.service")], { encoding: "utf8" });
        expect(bad.stderr).toMatch(/restart specifier/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("security rates the unit's exposure 2.0 or lower (OK)", () => {
      const dir = mkdtempSync(join(tmpdir(), "hvm-unit-"));
      try {
        writeFileSync(join(dir, "rapidclaw-gateway.service"), unit);
        const result = spawnSync("systemd-analyze", ["security", "--offline=true", "--threshold=20", join(dir, "rapidclaw-gateway.service")], { encoding: "utf8" });
        expect(result.status, result.stdout.split("\n").slice(-3).join("\n")).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe("reserved endpoints of the host firewall", () => {
  const BASE: HostFirewallOptions = { users: ["agent"], proxyEndpoints: [{ address: "127.0.0.1", port: 3128 }] };

  it("are checked before loopback and the proxy: the owners return, everyone else is logged and refused", () => {
    const options = { ...BASE, reservedEndpoints: [{ address: "127.0.0.1", port: 8080, users: ["alice", "1001"] }, { address: "10.0.0.5", port: 6379, users: ["gw"] }] };
    // Loopback DNS refusals (no dnsReason) sit between the reservations and the loopback allowance.
    const rules = renderHostFirewallRuleset(options, 4).split("\n").filter((l) => l.startsWith("-A ") && !l.includes("--dport 53 "));
    expect(rules.slice(0, 8)).toEqual([
      "-A RAPIDCLAW-EGRESS -o lo -p tcp -m tcp --dport 8080 -m owner --uid-owner alice -j RETURN",
      "-A RAPIDCLAW-EGRESS -o lo -p tcp -m tcp --dport 8080 -m owner --uid-owner 1001 -j RETURN",
      '-A RAPIDCLAW-EGRESS -o lo -p tcp -m tcp --dport 8080 -m limit --limit 10/minute --limit-burst 5 -j LOG --log-prefix "rapidclaw-blocked: " --log-level 4 --log-uid',
      "-A RAPIDCLAW-EGRESS -o lo -p tcp -m tcp --dport 8080 -j REJECT --reject-with tcp-reset",
      "-A RAPIDCLAW-EGRESS -d 10.0.0.5/32 -p tcp -m tcp --dport 6379 -m owner --uid-owner gw -j RETURN",
      '-A RAPIDCLAW-EGRESS -d 10.0.0.5/32 -p tcp -m tcp --dport 6379 -m limit --limit 10/minute --limit-burst 5 -j LOG --log-prefix "rapidclaw-blocked: " --log-level 4 --log-uid',
      "-A RAPIDCLAW-EGRESS -d 10.0.0.5/32 -p tcp -m tcp --dport 6379 -j REJECT --reject-with tcp-reset",
      "-A RAPIDCLAW-EGRESS -o lo -d 127.0.0.0/8 -j RETURN",
    ]);
    // A loopback endpoint is reserved in both versions (a wildcard listener answers on ::1 too); a remote one only in its own.
    const v6 = renderHostFirewallRuleset(options, 6);
    expect(v6).toContain("-o lo -p tcp -m tcp --dport 8080 -m owner --uid-owner alice -j RETURN");
    expect(v6).not.toContain("6379");
    expect(renderHostFirewallRuleset({ ...options, action: "DROP" as never }, 4)).toContain("-A RAPIDCLAW-EGRESS -o lo -p tcp -m tcp --dport 8080 -j DROP");
  });

  it("confine their users too: the apply script resolves and jumps for them", () => {
    const script = renderHostFirewall({ ...BASE, reservedEndpoints: [{ address: "127.0.0.1", port: 8080, users: ["alice"] }] }).applyScript;
    expect(script).toContain("for user in 'agent' 'alice'; do");
  });

  it("are validated with the rest, each problem by its path", () => {
    const problems = problemsOf(() => renderHostFirewall({
      ...BASE,
      reservedEndpoints: [
        { address: "localhost", port: 8080, users: ["alice"] },
        { address: "127.0.0.1", port: 70000, users: [] },
        { address: "127.0.0.1", port: 8081, users: ["root"] },
        { address: "127.0.0.2", port: 8081, users: ["bob"] },
      ],
    }));
    expect(problems).toEqual([
      expect.stringMatching(/^reservedEndpoints\[0\]\.address: "localhost" is not an IPv4 or IPv6 address/),
      expect.stringMatching(/^reservedEndpoints\[1\]\.port: 70000 is not a TCP port/),
      expect.stringMatching(/^reservedEndpoints\[1\]\.users: list the users that may connect/),
      expect.stringMatching(/^reservedEndpoints\[2\]\.users\[0\]: "root" could remove the firewall/),
      expect.stringMatching(/^reservedEndpoints\[3\]: reservedEndpoints\[2\] already reserves port 8081 on this host; list all of its users in one entry/),
    ]);
  });

  const RESTORE_SKIP = skipLoudly("iptables-restore --test of reserved endpoints", missingPrerequisites(["iptables-restore", "ip6tables-restore"]));
  it.skipIf(RESTORE_SKIP)("are accepted by the real iptables-restore --test", () => {
    const options = { ...BASE, reservedEndpoints: [{ address: "127.0.0.1", port: 8080, users: ["nobody", "4242"] }, { address: "fd00::5", port: 6379, users: ["4243"] }] };
    for (const version of [4, 6] as const) {
      const result = spawnSync(version === 4 ? "iptables-restore" : "ip6tables-restore", ["--test", "--noflush"], { input: renderHostFirewallRuleset(options, version), encoding: "utf8" });
      expect(result.status, result.stderr).toBe(0);
    }
  });
});

describe("HostEgressFirewall.gatewayReservations", () => {
  it("reserves each role's default gateway listener for its agent users, Redis and the gateway's proxy listener for the gateway's user", () => {
    const users = { roleUsers: { research: ["alice"], support: ["bob", "1002"] }, redis: { address: "127.0.0.1", port: 6379 }, upstreamProxy: { address: "127.0.0.1", port: 3131 } };
    expect(HostEgressFirewall.gatewayReservations(SPEC, users)).toEqual([
      { address: "127.0.0.1", port: 8080, users: ["alice"] },
      { address: "127.0.0.1", port: 8081, users: ["bob", "1002"] },
      { address: "127.0.0.1", port: 6379, users: ["rapidclaw-gateway"] },
      { address: "127.0.0.1", port: 3131, users: ["rapidclaw-gateway"] },
    ]);
  });

  it("follows listeners the description sets, on their own address or the listen host", () => {
    const spec = { ...SPEC, gateway: { listeners: [{ port: 9001, role: "support" }, { port: 9000, role: "research", address: "127.0.0.5" }] } };
    expect(HostEgressFirewall.gatewayReservations(spec, { roleUsers: { research: ["alice"], support: ["bob"] }, listenHost: "::1", gatewayUser: "gw" })).toEqual([
      { address: "::1", port: 9001, users: ["bob"] },
      { address: "127.0.0.5", port: 9000, users: ["alice"] },
    ]);
  });

  it("refuses a listener without a role, a role without users and an unknown role, all at once", () => {
    const spec = { ...SPEC, gateway: { listeners: [{ port: 9000, role: "research" }, { port: 9001 }], sourceNetworks: [{ cidr: "10.0.0.0/24", role: "support" }] } };
    expect(problemsOf(() => HostEgressFirewall.gatewayReservations(spec, { roleUsers: { research: [], reserch: ["alice"] } }))).toEqual([
      expect.stringMatching(/^roleUsers\.reserch: "reserch" is not a role of the firewall/),
      expect.stringMatching(/^roleUsers\.research: list the agent users of role "research"/),
      expect.stringMatching(/^gateway\.listeners\[1\]\.role: on a VM a listener must name its role/),
    ]);
  });
});

describe("rapidclaw gateway --redis", () => {
  const redisOption = (env: NodeJS.ProcessEnv, args: string[]) => {
    const saved = process.env.RAPIDCLAW_REDIS_URL;
    if (env.RAPIDCLAW_REDIS_URL === undefined) delete process.env.RAPIDCLAW_REDIS_URL;
    else process.env.RAPIDCLAW_REDIS_URL = env.RAPIDCLAW_REDIS_URL;
    try {
      const command = gatewayCommand().action(() => undefined);
      command.parse(["--config", "f.yaml", "--key-dir", "k", ...args], { from: "user" });
      return command.opts().redis as string;
    } finally {
      if (saved === undefined) delete process.env.RAPIDCLAW_REDIS_URL;
      else process.env.RAPIDCLAW_REDIS_URL = saved;
    }
  };

  it("comes from RAPIDCLAW_REDIS_URL (the unit's environment file), else the flag, else the local default", () => {
    expect(redisOption({ RAPIDCLAW_REDIS_URL: "redis://:secret@10.0.0.9:6380" }, [])).toBe("redis://:secret@10.0.0.9:6380");
    expect(redisOption({ RAPIDCLAW_REDIS_URL: "redis://10.0.0.9:6380" }, ["--redis", "redis://127.0.0.1:7000"])).toBe("redis://127.0.0.1:7000");
    expect(redisOption({}, [])).toBe("redis://127.0.0.1:6379");
  });
});
