import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { AgentPlatform } from "../src";
import { compileFirewall } from "../src/plan/plan";
import { parseHostPattern, type HostPattern } from "../src/model/hosts";
import { renderSquidConf, renderSquidConfForPlan, SQUID_LOG_FORMAT, squidDomainLists, squidGatewayAllowlist, squidRolesForPlan } from "../src/render/squid-conf";
import { FORBIDDEN_DESTINATIONS } from "../src/model/forbidden-destinations";
import { firewallScenario } from "../examples/firewall-scenario";
import { squidBinary, squidParse } from "./support/squid";
import { EVENT_LOG_ROTATION, squidStartCommand } from "../src/render/squid-start-command";
import { SQUID_SNI_HELPER } from "../src/render/squid-tls";

const patterns = (...hosts: string[]) => hosts.map((h) => parseHostPattern(h) as HostPattern);

describe("squid.conf renderer", () => {
  it("allows a wildcard's subdomains and refuses its apex unless the apex is listed", () => {
    expect(squidDomainLists(patterns("*.x.com", "api.y.com"))).toEqual({ allow: [".x.com", "api.y.com"], apexDeny: ["x.com"] });
    expect(squidDomainLists(patterns("*.x.com", "x.com"))).toEqual({ allow: [".x.com"], apexDeny: [] });
  });

  it("matches Docker roles by their own proxy address and Kubernetes roles by their own port, never by source", () => {
    const docker = renderSquidConfForPlan(compileFirewall(firewallScenario(AgentPlatform.DOCKER)));
    const bump = "ssl-bump generate-host-certificates=off tls-cert=/dev/shm/rapidclaw-unused-tls-cert.pem tls-key=/dev/shm/rapidclaw-unused-tls-key.pem";
    expect(docker.match(/^http_port .*/gm)).toEqual([`http_port 172.30.76.2:3128 ${bump} name=customer-support`, `http_port 172.30.16.2:3128 ${bump} name=research-agent`]);
    expect(docker).toContain("acl role_research-agent_in myportname research-agent");
    expect(docker).not.toMatch(/ src /);
    const k8s = renderSquidConfForPlan(compileFirewall(firewallScenario(AgentPlatform.KUBERNETES)));
    expect(k8s).toContain(`http_port 3129 ${bump} name=research-agent`);
    expect(k8s).toContain("acl role_research-agent_in myportname research-agent");
  });

  it("allows only CONNECT to 443 unless plain HTTP is enabled, and ends with deny all", () => {
    const roles = [{ name: "r", resourceName: "r", allowlist: patterns("api.x.com"), port: 3128 }];
    const strict = renderSquidConf({ roles, allowPlainHttp: false });
    const allows = strict.split("\n").filter((l) => l.startsWith("http_access allow") || l.startsWith("ssl_bump peek"));
    // CONNECTs are decided by ssl_bump at step 1 (http_access would bump to show its error).
    expect(allows).toEqual(["http_access allow CONNECT event_allowed", "ssl_bump peek tls_step1 CONNECT tls_port !ip_literal role_r_in role_r_hosts !forbidden_dst"]);
    const lines = strict.split("\n");
    expect(lines.filter((l) => l.startsWith("http_access ")).pop()).toBe("http_access deny all event_blocked");
    const plain = renderSquidConf({ roles, allowPlainHttp: true });
    expect(plain).toContain("http_access allow !CONNECT http_port role_r_in role_r_hosts !forbidden_dst event_allowed");
    expect(strict.split("\n").filter((l) => l.startsWith("ssl_bump ")).pop()).toBe("ssl_bump terminate all event_blocked");
  });

  it("refuses IP literals before any allow rule", () => {
    const conf = renderSquidConfForPlan(compileFirewall(firewallScenario(AgentPlatform.DOCKER)));
    const lines = conf.split("\n");
    const plain = renderSquidConfForPlan(compileFirewall({ ...firewallScenario(AgentPlatform.DOCKER), proxy: { allowPlainHttp: true } })).split("\n");
    expect(plain.indexOf("http_access deny ip_literal event_blocked")).toBeLessThan(plain.findIndex((l) => l.startsWith("http_access allow !CONNECT")));
    for (const peek of lines.filter((l) => l.startsWith("ssl_bump peek"))) expect(peek).toContain(" !ip_literal ");
    expect(conf).toMatch(/^acl ip_literal dstdom_regex -n /m);
    expect(conf).not.toMatch(/dstdomain (?!-n)/);
  });

  it("refuses the special-purpose blocks, :: and every NAT64 and 6to4 prefix among them, plus proxy.forbiddenCidrs", () => {
    const forbidden = (conf: string) => (/^acl forbidden_dst dst (.*)$/m.exec(conf) as RegExpExecArray)[1].split(" ");
    const seed = forbidden(renderSquidConfForPlan(compileFirewall(firewallScenario(AgentPlatform.DOCKER))));
    expect(seed).toEqual([...FORBIDDEN_DESTINATIONS]);
    for (const range of ["::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "169.254.0.0/16", "100.64.0.0/10", "192.0.0.0/24"]) expect(seed).toContain(range);
    const spec = { ...firewallScenario(AgentPlatform.DOCKER), proxy: { forbiddenCidrs: ["203.0.113.0/24", "2001:DB8:42::/48", "203.0.113.0/24"] } };
    expect(forbidden(renderSquidConfForPlan(compileFirewall(spec)))).toEqual([...FORBIDDEN_DESTINATIONS, "2001:db8:42::/48", "203.0.113.0/24"]);
  });

  it("caps connections per client and closes connections that send no request, with defaults and options", () => {
    const seed = renderSquidConfForPlan(compileFirewall(firewallScenario(AgentPlatform.KUBERNETES)));
    expect(seed).toMatch(/^client_ip_max_connections 512$/m);
    expect(seed).toMatch(/^request_start_timeout 60 seconds$/m);
    const tuned = renderSquidConfForPlan(compileFirewall({ ...firewallScenario(AgentPlatform.KUBERNETES), proxy: { maxConnectionsPerClient: 64, requestStartTimeoutSec: 10 } }));
    expect(tuned).toMatch(/^client_ip_max_connections 64$/m);
    expect(tuned).toMatch(/^request_start_timeout 10 seconds$/m);
  });

  it("gives the tool gateway its own listener: its upstream hosts, CONNECT to 443 only, its own log role; nothing changes without it", () => {
    const plan = compileFirewall(firewallScenario(AgentPlatform.KUBERNETES));
    const base = { roles: squidRolesForPlan(plan), allowPlainHttp: true };
    const allowlist = squidGatewayAllowlist(["https://search.tools.test/api", "https://kb.tools.test", "https://search.tools.test/v2"]);
    expect(allowlist).toEqual(patterns("kb.tools.test", "search.tools.test"));
    const without = renderSquidConf(base);
    const withGateway = renderSquidConf({ ...base, gateway: { allowlist, port: 3140 } });
    expect(renderSquidConf({ ...base, gateway: undefined })).toBe(without);
    const added = withGateway.split("\n").filter((line) => !without.split("\n").includes(line));
    expect(added).toEqual([
      "http_port 3140 ssl-bump generate-host-certificates=off tls-cert=/dev/shm/rapidclaw-unused-tls-cert.pem tls-key=/dev/shm/rapidclaw-unused-tls-key.pem name=tool_gateway",
      "# tool gateway: its tools' upstream hosts",
      "acl gateway_in myportname tool_gateway",
      "acl gateway_hosts dstdomain -n kb.tools.test search.tools.test",
      "note role @gateway gateway_in",
      "acl gateway_dst0 dstdomain -n kb.tools.test",
      "acl gateway_sni0 ssl::server_name --client-requested kb.tools.test",
      "acl gateway_dst1 dstdomain -n search.tools.test",
      "acl gateway_sni1 ssl::server_name --client-requested search.tools.test",
      "ssl_bump peek tls_step1 CONNECT tls_port !ip_literal gateway_in gateway_hosts !forbidden_dst",
      "ssl_bump splice !tls_step1 gateway_in gateway_dst0 gateway_sni0 sni_present mark_spliced",
      "ssl_bump splice !tls_step1 gateway_in gateway_dst1 gateway_sni1 sni_present mark_spliced",
    ]);
    const lines = withGateway.split("\n");
    expect(lines.indexOf(added[10])).toBeLessThan(lines.indexOf("ssl_bump terminate all event_blocked"));
  });

  it("logs the client-written fields URL-encoded, so that every access-log line is JSON", () => {
    expect(SQUID_LOG_FORMAT).toContain('"method":"%#rm"');
    expect(SQUID_LOG_FORMAT).toContain('"host":"%#>rd"');
    expect(SQUID_LOG_FORMAT).not.toContain('%"');
  });

  describe.skipIf(squidBinary === undefined)("accepted by real Squid (squid -k parse)", () => {
    it.each([AgentPlatform.DOCKER, AgentPlatform.KUBERNETES])("seed scenario on %s", (platform) => {
      const result = squidParse(renderSquidConfForPlan(compileFirewall(firewallScenario(platform))));
      expect(result.problems).toEqual([]);
      expect(result.status).toBe(0);
    });

    it("with the tool gateway's listener", () => {
      const plan = compileFirewall(firewallScenario(AgentPlatform.DOCKER));
      const gateway = { allowlist: squidGatewayAllowlist(["https://api.anthropic.com", "https://search.tools.test/api"]), port: 3140, listenAddress: "172.30.0.2" };
      const result = squidParse(renderSquidConf({ roles: squidRolesForPlan(plan), allowPlainHttp: false, gateway }));
      expect(result.problems).toEqual([]);
      expect(result.status).toBe(0);
    });

    it("extra forbidden ranges, caps and timeouts", () => {
      const spec = { ...firewallScenario(AgentPlatform.DOCKER), proxy: { forbiddenCidrs: ["203.0.113.0/24", "2001:db8:42::/48"], maxConnectionsPerClient: 100_000, requestStartTimeoutSec: 5 } };
      const result = squidParse(renderSquidConfForPlan(compileFirewall(spec)));
      expect(result.problems).toEqual([]);
      expect(result.status).toBe(0);
    });

    it("overlapping patterns after normalisation (Squid 5.7 refuses overlaps at start)", () => {
      const spec = firewallScenario(AgentPlatform.KUBERNETES);
      const roles = { ...spec.roles, research_agent: { network: { allowEgress: true, allowedHosts: ["x.com", "*.x.com", "a.x.com", "*.b.x.com", "API.ANTHROPIC.COM"] } } };
      const result = squidParse(renderSquidConfForPlan(compileFirewall({ ...spec, roles, proxy: { allowPlainHttp: true } })));
      expect(result.problems).toEqual([]);
      expect(result.status).toBe(0);
    });
  });
});

describe("squid.conf checks the TLS server name (peek and splice, no interception)", () => {
  const roles = [{ name: "r", resourceName: "r", allowlist: patterns("*.x.com", "api.y.com"), port: 3128 }];
  const conf = renderSquidConf({ roles, allowPlainHttp: false });
  const lines = conf.split("\n");

  it("peeks at step 1, splices only a listed server name of the CONNECT host's own pattern, and terminates the rest", () => {
    const bump = lines.filter((l) => l.startsWith("ssl_bump "));
    expect(bump).toEqual([
      "ssl_bump peek tls_step1 CONNECT tls_port !ip_literal role_r_in role_r_hosts !role_r_apex !forbidden_dst",
      "ssl_bump splice !tls_step1 role_r_in role_r_dst0 role_r_sni0 !role_r_sni0_apex sni_present mark_spliced",
      "ssl_bump splice !tls_step1 role_r_in role_r_dst1 role_r_sni1 sni_present mark_spliced",
      "ssl_bump terminate all event_blocked",
    ]);
    expect(conf).toContain("acl role_r_dst0 dstdomain -n .x.com\n");
    expect(conf).toContain("acl role_r_sni0 ssl::server_name --client-requested .x.com\n");
    expect(conf).toContain("acl role_r_sni0_apex ssl::server_name --client-requested x.com\n");
    expect(conf).toContain("acl role_r_sni1 ssl::server_name --client-requested api.y.com\n");
    // Nothing is ever bumped: no CA, no certificate generation, no stare.
    expect(conf).not.toMatch(/ssl_bump (bump|stare|client-first|server-first)|generate-host-certificates=on|sslcrtd_program/);
  });

  it("requires a server name: the helper answers ERR without SNI, where ssl::server_name would fall back to the CONNECT host", () => {
    expect(conf).toMatch(/^external_acl_type sni_present .*%ssl::>sni \/bin\/sh \/etc\/squid\/rapidclaw-sni-present\.sh$/m);
    const answer = (line: string) => spawnSync("sh", ["-c", SQUID_SNI_HELPER], { input: `${line}\n`, encoding: "utf8" }).stdout.trim();
    expect(answer("api.y.com -")).toBe("OK");
    expect(answer("- -")).toBe("ERR");
    expect(answer("")).toBe("ERR");
  });

  it("logs the server name, and one line per spliced tunnel", () => {
    expect(SQUID_LOG_FORMAT).toContain('"sni":"%#ssl::>sni"');
    expect(conf).toContain("access_log stdio:/dev/stdout rapidclaw !spliced_connect\n");
    expect(conf).toContain("acl spliced_connect note tls spliced\n");
  });

  it("starts the proxy with a throwaway self-signed certificate made in a scratch directory, never a CA", () => {
    const [shell, flag, script] = squidStartCommand("/etc/squid/squid.conf");
    expect([shell, flag]).toEqual(["sh", "-c"]);
    expect(script).toMatch(/^openssl req -x509 -newkey ec .* -keyout \/dev\/shm\/rapidclaw-unused-tls-key\.pem -out \/dev\/shm\/rapidclaw-unused-tls-cert\.pem && exec squid -N -f \/etc\/squid\/squid\.conf$/);
  });

  it("rotates the event log past its size when there is one: SIGUSR1 to Squid from a loop that ends with it, one old file kept", () => {
    const [, , script] = squidStartCommand("/etc/squid/squid.conf", { path: "/var/log/squid/events.log" });
    expect(script).toContain(`while sleep ${EVENT_LOG_ROTATION.checkIntervalSec} && kill -0 $$ 2>/dev/null; do [ "$(stat -c %s /var/log/squid/events.log 2>/dev/null || echo 0)" -gt ${EVENT_LOG_ROTATION.maxBytes} ] && kill -USR1 $$; done & exec squid -N -f /etc/squid/squid.conf`);
    expect(script).toMatch(/^openssl req .* \|\| exit 1; /);
    const withEventLog = renderSquidConf({ roles, allowPlainHttp: false, eventLog: "/var/log/squid/events.log" });
    expect(withEventLog).toContain("access_log stdio:/var/log/squid/events.log rapidclaw !spliced_connect\nlogfile_rotate 1\n");
    expect(conf).not.toContain("logfile_rotate");
  });
});
