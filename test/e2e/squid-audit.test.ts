/**
 * The proxy's shadow mode (`proxy.enforcement: audit`) on real Squid in a network namespace of its
 * own: a role's CONNECT to a host its allowlist does not list, or with a TLS server name that does
 * not match, passes and is logged `would_block`; listed hosts pass as `egress_allowed`; IP
 * literals, other ports and forbidden destinations are still refused. The same description without
 * the option refuses them (squid-proxy.test.ts), and its replay against the enforcing description
 * reports each `would_block` as one it would refuse.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firewallScenario } from "../../examples/firewall-scenario";
import { parseEventLine } from "../../src/monitoring/events";
import { compileFirewall } from "../../src/plan/plan";
import { gatewayConfigFromSpec } from "../../src/gateway/config";
import { PROXY_EVENTS } from "../../src/render/squid-conf";
import { replayEvents } from "../../src/replay/replay";
import { AgentPlatform, Enforcement, type FirewallSpecProps } from "../../src/model/types";
import { validateFirewallSpec } from "../../src/model/validate";
import { missingPrerequisites, skipLoudly } from "./support/prerequisites";
import { startSquidRig, stopSquidRig, type SquidRig } from "./support/squid-rig";

const SKIP = skipLoudly("Squid egress proxy in audit mode e2e", missingPrerequisites(["ip", "squid", "setpriv", "unshare"], { namespaces: true }));

const UPSTREAMS = [
  { name: "arxiv.org", address: "203.0.113.15" },
  { name: "github.com", address: "203.0.113.18" },
  { name: "api.openai.com", address: "203.0.113.11" },
  { name: "metadata.google.com", address: "169.254.169.254" },
] as const;
const LISTEN_ADDRESS = "172.30.0.2";
const banner = (address: string, port: number) => `upstream ${address}:${port}`;

const enforcing: FirewallSpecProps = firewallScenario(AgentPlatform.KUBERNETES);
const auditing: FirewallSpecProps = { ...enforcing, proxy: { enforcement: Enforcement.AUDIT } };

interface Probe {
  readonly why: string;
  readonly from: "customer_support" | "research_agent";
  readonly target: string;
  readonly sni?: string;
  /** Refused after the CONNECT was answered, on the ClientHello. */
  readonly refusedAt?: "tls";
  /** The upstream that answers through the proxy, with the event logged; undefined for a refusal. */
  readonly passes?: { readonly host: (typeof UPSTREAMS)[number]["name"]; readonly event: string };
}

const PROBES: Probe[] = [
  { why: "a listed host", from: "research_agent", target: "arxiv.org:443", passes: { host: "arxiv.org", event: PROXY_EVENTS.allowed } },
  { why: "a host no role lists", from: "research_agent", target: "github.com:443", passes: { host: "github.com", event: PROXY_EVENTS.wouldBlock } },
  { why: "a host only another role lists", from: "customer_support", target: "arxiv.org:443", passes: { host: "arxiv.org", event: PROXY_EVENTS.wouldBlock } },
  { why: "an unlisted host, ClientHello naming yet another", from: "research_agent", target: "github.com:443", sni: "attacker.example", passes: { host: "github.com", event: PROXY_EVENTS.wouldBlock } },
  { why: "a listed host, ClientHello naming another host (the server name check stays)", from: "customer_support", target: "api.openai.com:443", sni: "attacker.example", refusedAt: "tls" },
  { why: "a port other than 443", from: "research_agent", target: "github.com:8443" },
  { why: "an IP literal", from: "research_agent", target: "203.0.113.18:443" },
  { why: "a name resolving to the metadata address", from: "research_agent", target: "metadata.google.com:443" },
];

describe.skipIf(SKIP)("Squid in audit mode (proxy.enforcement audit)", () => {
  const plan = compileFirewall(auditing);
  let rig: SquidRig | undefined;

  beforeAll(async () => {
    rig = await startSquidRig({ label: "shadow-squid", plan, listenAddress: LISTEN_ADDRESS, hosts: UPSTREAMS, served: UPSTREAMS.map((u) => u.address), ports: [443, 8443], banner });
  });

  afterAll(() => stopSquidRig(rig));

  it.each(PROBES.map((probe) => ({ probe, name: `${probe.from} CONNECT ${probe.target}${probe.sni ? ` SNI ${probe.sni}` : ""}: ${probe.passes?.event ?? "refused"} (${probe.why})` })))("$name", async ({ probe }) => {
    const proxy = (rig as SquidRig).squid;
    const before = proxy.accessLogLines().length;
    const role = plan.roles.find((r) => r.name === probe.from)!;
    const answer = await (rig as SquidRig).prober.proxy({ proxyHost: LISTEN_ADDRESS, localAddress: LISTEN_ADDRESS, proxyPort: role.proxyPort, method: "CONNECT", target: probe.target, sni: probe.sni, timeoutMs: 5_000 });
    const [host, port] = probe.target.split(":");
    const line = await proxy.nextAccessLogLine(before);
    const context = `answer ${JSON.stringify(answer)}\nline ${line}`;
    if (probe.passes !== undefined) {
      const address = UPSTREAMS.find((u) => u.name === probe.passes!.host)!.address;
      expect(answer, context).toMatchObject({ status: 200, body: banner(address, Number(port)) });
      expect(JSON.parse(line), context).toMatchObject({ event: probe.passes.event, role: probe.from, method: "CONNECT", host, port, result: "TCP_TUNNEL", sni: probe.sni ?? host });
    } else {
      expect(answer, context).toMatchObject({ status: probe.refusedAt === "tls" ? 200 : 0, body: "" });
      expect(JSON.parse(line), context).toMatchObject({ event: PROXY_EVENTS.blocked, role: probe.from, host, port });
    }
  });

  it("logs one line per decision, and a replay against the enforcing description refuses each would_block", () => {
    const lines = (rig as SquidRig).squid.accessLogLines();
    if (process.env.RAPIDCLAW_E2E_SHOW_LOG) console.log(lines.join("\n"));
    expect(lines.map((l) => JSON.parse(l).event)).toEqual(PROBES.map((p) => p.passes?.event ?? PROXY_EVENTS.blocked));
    const events = lines.map((l) => parseEventLine(l)).map((parsed) => (parsed.ok ? parsed.event : expect.unreachable(parsed.reason)));
    const candidate = (spec: FirewallSpecProps) => ({ config: gatewayConfigFromSpec(validateFirewallSpec(spec)), plan: compileFirewall(spec) });
    const report = replayEvents(events, candidate(enforcing));
    expect(report.changes.map((c) => [c.layer, c.role, c.subject, c.wouldRefuse, c.wouldAllow])).toEqual([
      ["proxy_host", "customer_support", "arxiv.org", 1, 0],
      ["proxy_host", "research_agent", "github.com", 2, 0],
      // The documented limit: addresses are not in the lines, so a listed name refused for where it resolves reads as allowed.
      ["proxy_host", "research_agent", "metadata.google.com", 0, 1],
    ]);
    // Against the description that wrote them, only that limit shows.
    expect(replayEvents(events, candidate(auditing)).changes.map((c) => c.subject)).toEqual(["metadata.google.com"]);
  });
});
