/**
 * `rapidclaw verify` reads squid.conf by its meaning; real Squid decides by it. For the rendered
 * config and for widened ones (an extra ACL host, an extra listener, an ssl_bump rule without a
 * listener condition), every listener and every test host: verify says a CONNECT to port 443 is
 * allowed exactly when real Squid answers it (ssl_bump step 1 lets it on; the server-name check
 * at step 2 only narrows). Squid runs in a namespace of its own; test names
 * resolve through its hosts_file to addresses on that namespace's `lo`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firewallScenario } from "../../examples/firewall-scenario";
import { hostPatternText } from "../../src/model/hosts";
import { AgentPlatform } from "../../src/model/types";
import { compileFirewall } from "../../src/plan/plan";
import { renderSquidConfForPlan } from "../../src/render/squid-conf";
import { hostCovers } from "../../src/verify/expected-grants";
import { parseSquidConf, type SquidListener } from "../../src/verify/squid-conf-reader";
import { NetAgent } from "./support/net-agent-client";
import { NetworkNamespace } from "./support/netns";
import { missingPrerequisites, skipLoudly } from "./support/prerequisites";
import { prepareSquidFiles, removeSquidFiles, SquidProcess } from "./support/squid";

const SKIP = skipLoudly("verify's squid.conf reading against real Squid", missingPrerequisites(["ip", "squid", "setpriv", "unshare"], { namespaces: true }));

const HOSTS = [
  { name: "api.openai.com", address: "203.0.113.11" },
  { name: "www.google.com", address: "203.0.113.12" },
  { name: "google.com", address: "203.0.113.13" },
  { name: "arxiv.org", address: "203.0.113.15" },
  { name: "exfil.example.net", address: "203.0.113.20" },
  { name: "www.example.org", address: "203.0.113.21" },
  { name: "example.org", address: "203.0.113.22" },
];

const plan = compileFirewall({ ...firewallScenario(AgentPlatform.DOCKER), modelHosts: ["api.openai.com"] });
const role = (name: string) => plan.roles.find((r) => r.name === name) as (typeof plan.roles)[number];
const support = role("customer_support");
const research = role("research_agent");
/** A Docker agent's address: one the engine could hand out on the role's network. */
const agentAddress = (r: typeof support) => r.docker?.ipRange.replace(/\.\d+\/\d+$/, ".200") as string;

const MUTATIONS: { label: string; edit: (conf: string) => string }[] = [
  { label: "as rendered", edit: (conf) => conf },
  { label: "an extra ACL host", edit: (conf) => conf.replace(/^(acl role_customer-support_hosts dstdomain .*)$/m, "$1\nacl role_customer-support_hosts dstdomain -n exfil.example.net") },
  { label: "an extra listener", edit: (conf) => conf.replace(/^(http_port (\S+):3128 (.*)name=customer-support)$/m, "$1\nhttp_port $2:3129 $3name=research-agent") },
  // Every CONNECT passes http_access to ssl_bump, which decides it at step 1.
  { label: "an ssl_bump rule without a listener condition", edit: (conf) => conf.replace("ssl_bump terminate all", "acl extra dstdomain -n .example.org\nssl_bump peek tls_step1 CONNECT extra\nssl_bump terminate all") },
];

/** What verify's reading says a listener lets through: CONNECT to `host`:443. */
function verifyAllows(conf: string, listener: SquidListener, host: string): boolean {
  return parseSquidConf(conf).allowances(listener).some((a) =>
    a.ports.some((p) => /^(CONNECT|any method) :(443|any port)$/.test(p)) && (a.hosts === "any" || a.hosts.some((p) => hostCovers(hostPatternText(p), host))));
}

describe.skipIf(SKIP)("verify reads squid.conf as real Squid enforces it", () => {
  let ns: NetworkNamespace | undefined;
  let upstreams: NetAgent | undefined;
  let prober: NetAgent | undefined;

  beforeAll(async () => {
    ns = NetworkNamespace.create("rc-vfy");
    for (const r of [support, research]) for (const address of [r.docker?.proxyAddress as string, agentAddress(r)]) ns.addAddress(address);
    for (const host of HOSTS) ns.addAddress(host.address);
    upstreams = await NetAgent.start(ns);
    for (const host of HOSTS) await upstreams.call({ op: "serveTcp", host: host.address, port: 443, banner: `upstream ${host.address}` });
    prober = await NetAgent.start(ns);
  });

  afterAll(async () => {
    await prober?.stop();
    await upstreams?.stop();
    ns?.destroy();
  });

  describe.each(MUTATIONS)("$label", ({ edit }) => {
    it("agrees with Squid on every listener and host", async () => {
      const files = prepareSquidFiles("verify-squid", HOSTS);
      const rendered = renderSquidConfForPlan(plan, { hostsFile: files.hostsFile, accessLog: `stdio:${files.accessLog}`, cacheLog: files.cacheLog });
      const conf = edit(rendered);
      if (edit !== MUTATIONS[0].edit) expect(conf, "the mutation changes the config").not.toBe(rendered);
      const squid = await SquidProcess.start(ns as NetworkNamespace, files, conf);
      try {
        const outcomes: string[] = [];
        const expected: string[] = [];
        for (const listener of parseSquidConf(conf).listeners.filter((l) => l.name !== "tool_gateway")) {
          // The client is an agent of the role whose network holds the listener's address.
          const client = [support, research].find((r) => r.docker?.proxyAddress === listener.address) as typeof support;
          for (const host of HOSTS) {
            const answer = await (prober as NetAgent).proxy({ proxyHost: listener.address as string, proxyPort: listener.port, localAddress: agentAddress(client), method: "CONNECT", target: `${host.name}:443`, timeoutMs: 5_000 });
            outcomes.push(`${listener.name}@${listener.address}:${listener.port} ${host.name} ${answer.status === 200 ? "allowed" : "refused"}`);
            expected.push(`${listener.name}@${listener.address}:${listener.port} ${host.name} ${verifyAllows(conf, listener, host.name) ? "allowed" : "refused"}`);
          }
        }
        expect(outcomes).toEqual(expected);
        // Not vacuous: Squid allows something, and refuses something, on every config.
        expect(outcomes.some((o) => o.endsWith("allowed")) && outcomes.some((o) => o.endsWith("refused"))).toBe(true);
      } finally {
        await squid.stop();
        removeSquidFiles(files);
      }
    });
  });
});
