/**
 * One scenario from agent to alert, on real programs: the Docker stack as `cdktf synth` writes it,
 * replayed on a real Docker Engine in a network namespace (see support/docker-replay.ts): real
 * Squid with the synthesized squid.conf writing its event log into the volume proxy-events
 * follows, the real gateway bundle as the gateway and as proxy-events, a real redis-server for the
 * limits and the shared alert windows, and a busybox agent. An agent of one role makes 5 CONNECTs
 * the proxy refuses, 3 calls the gateway refuses for permission and 10 calls over a rate limit;
 * the evaluators (proxy-events for Squid's refusals, the gateway for its own) print exactly one
 * `network_blocked` critical, one `permission_denied` critical and one `rate_limited` warning,
 * each resolved exactly once when its window empties (whichever evaluator sweeps first), and
 * nothing else; a Slack webhook receiver (HTTPS, inside the namespace, reached over the proxy's
 * egress network the evaluators join for webhooks) gets exactly those six messages.
 *
 * What the test changes, and nothing else (as in the tool gateway suite): Squid gets a
 * `hosts_file` so the tool's test host resolves to the stand-in upstream (TEST-NET-3, inside the
 * namespace); the evaluators trust the test CA of that upstream and of the receiver; and Vault
 * cannot run here, so each evaluator's Vault Agent container runs with its synthesized settings
 * but a stand-in program that renders the webhook's URL where Vault Agent would (the URL alone,
 * mode 0400, in the memory-backed volume the evaluator mounts) and then holds the volume.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentPlatform, AlertSeverity, ToolAccess, WebhookFormat, type FirewallSpecProps } from "../../src/model/types";
import { compileFirewall, type FirewallPlan } from "../../src/plan/plan";
import { WEBHOOK_SECRETS_ROOT, webhookSecretDir } from "../../src/plan/webhook-delivery";
import { selfSignedCertificate } from "../gateway/support/upstream";
import { until } from "../support/webhook-receiver";
import { DockerEngine } from "./support/docker-engine";
import { connectRequest, httpFrom, probeFrom } from "./support/docker-probe";
import { replayBuiltImages, replayContainer, replayNetworks, replayVolumes } from "./support/docker-replay";
import { containerNamed, importGatewayStackImages, proxyWithHostsFile, replayVaultAgentStandIn, synthesizeToDisk, untilReady, withTestCa } from "./support/gateway-replay";
import { NetAgent } from "./support/net-agent-client";
import type { RecordedRequest } from "./support/net-agent-protocol";
import { missingPrerequisites, skipLoudlyOrFailInCi } from "./support/prerequisites";

const SKIP = skipLoudlyOrFailInCi("alert pipeline on Docker e2e", missingPrerequisites(["ip", "unshare", "dockerd", "docker", "containerd", "runc", "squid", "busybox", "redis-server", "openssl", "ldd", "tar", "iptables"], { namespaces: true }));

/** The stand-in upstream of the tool (TEST-NET-3), on the namespace's loopback. */
const UPSTREAM = "203.0.113.10";
const TOOL_HOST = "db.tools.test";
/** The webhook receiver (TEST-NET-3 too), outside the firewall's networks as Slack would be. */
const RECEIVER = "203.0.113.20";
const WEBHOOK_PATH = "/services/T0RAPID/B0CLAW/alert-pipeline";
/**
 * Every window: long enough to hold each burst of events on a busy machine (the 11 calls take a
 * second or two), short enough that the alerts resolve soon after (a window's length after its
 * first counted event).
 */
const WINDOW_SEC = 15;
const THRESHOLDS = {
  networkBlocked: { count: 5, windowSec: WINDOW_SEC, severity: AlertSeverity.CRITICAL },
  permissionDenied: { count: 3, windowSec: WINDOW_SEC, severity: AlertSeverity.CRITICAL },
  rateLimited: { count: 10, windowSec: WINDOW_SEC, severity: AlertSeverity.WARNING },
};
/** Hosts the agent tries; none is allowed to its role. */
const BLOCKED_HOSTS = Array.from({ length: THRESHOLDS.networkBlocked.count }, (_, i) => `exfil-${i}.example.org`);

/** One role with one tool it may read (one call per hour) and one it may not use. */
const SPEC: FirewallSpecProps = {
  platform: AgentPlatform.DOCKER,
  modelHosts: ["api.anthropic.com"],
  tools: {
    database: { upstream: `https://${TOOL_HOST}`, rateLimit: { maxCalls: 1, windowSec: 3600 } },
    send_email: { upstream: `https://${TOOL_HOST}/mail` },
  },
  roles: { research_agent: { tools: { database: ToolAccess.READ }, network: { allowEgress: false } } },
  agents: [{ name: "research-agent", image: "example/agent:1", role: "research_agent" }],
  // The evaluators' Vault Agents log in there; never reached here (their stand-ins render the URL).
  vault: { address: "https://vault.test:8200" },
  monitoring: { ...THRESHOLDS, webhooks: [{ severity: AlertSeverity.INFO, format: WebhookFormat.SLACK, vaultSecret: "oncall-slack" }] },
};

const AGENT_IMAGE = "rapidclaw-test/busybox";
const PROXY_IMAGE = "rapidclaw-test/squid";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** An alert line an evaluator printed, with the container that printed it. */
interface AlertLine {
  readonly container: string;
  readonly line: Json;
}

describe.skipIf(SKIP)("the alert pipeline on a real Docker Engine: agent to alert, replaying the synthesized JSON", () => {
  let engine: DockerEngine | undefined;
  let netAgent: NetAgent | undefined;
  let imageDir: string | undefined;
  let outdir: string | undefined;
  let plan: FirewallPlan;

  beforeAll(async () => {
    plan = compileFirewall(SPEC);
    const gateway = plan.gateway!;
    const events = plan.proxyEvents!;
    outdir = mkdtempSync(join(tmpdir(), "rcal-synth-"));
    const { doc, stackDir } = synthesizeToDisk(outdir, SPEC);

    engine = await DockerEngine.start("rcal");
    console.info(`alert pipeline e2e: Docker Engine ${engine.version()} in namespace ${engine.ns.name}`);
    engine.ns.addAddress(UPSTREAM);
    engine.ns.addAddress(RECEIVER);
    netAgent = await NetAgent.start(engine.ns);
    const certificate = selfSignedCertificate([TOOL_HOST, RECEIVER]);
    for (const host of [UPSTREAM, RECEIVER]) await netAgent.call({ op: "serveHttps", host, port: 443, cert: certificate.cert, key: certificate.key });

    imageDir = mkdtempSync(join(tmpdir(), "rcal-images-"));
    importGatewayStackImages(engine, imageDir, gateway, { agent: AGENT_IMAGE, proxy: PROXY_IMAGE });
    const [proxyImage] = replayBuiltImages(engine, doc, PROXY_IMAGE);

    replayNetworks(engine, doc);
    replayVolumes(engine, doc);
    replayContainer(engine, doc, proxyWithHostsFile(containerNamed(doc, plan.names.proxy), { [TOOL_HOST]: UPSTREAM }), { image: proxyImage });
    replayContainer(engine, doc, containerNamed(doc, gateway.redis.name), { image: gateway.redis.image });
    // Each evaluator reads the webhook's URL at start: its Vault Agent renders it first.
    const vaultAgents = [gateway.docker!.vaultAgentName, events.docker!.vaultAgentName];
    const url = { [posix.relative(WEBHOOK_SECRETS_ROOT, `${webhookSecretDir(0)}/url`)]: `https://${RECEIVER}${WEBHOOK_PATH}` };
    for (const name of vaultAgents) await replayVaultAgentStandIn(engine, doc, containerNamed(doc, name), WEBHOOK_SECRETS_ROOT, url, AGENT_IMAGE);
    replayContainer(engine, doc, withTestCa(containerNamed(doc, gateway.name), gateway.paths.config, certificate.cert), { image: gateway.image }, stackDir);
    replayContainer(engine, doc, withTestCa(containerNamed(doc, events.name), events.configPath, certificate.cert), { image: events.image }, stackDir);
    for (const agent of plan.agents) replayContainer(engine, doc, containerNamed(doc, agent.name), { image: AGENT_IMAGE, command: ["sleep", "86400"] });

    const replayed = [plan.names.proxy, gateway.redis.name, ...vaultAgents, gateway.name, events.name, ...plan.agents.map((a) => a.name)];
    expect(Object.values<Json>(doc.resource.docker_container).map((c) => c.name).sort(), "every synthesized container is replayed").toEqual([...replayed].sort());
    await untilReady(engine, gateway.name, gateway.adminPort);
    await untilReady(engine, events.name, events.adminPort);
    // proxy-events follows the log from its end: it has opened the file once it says so.
    await until(`${events.name} following ${events.logFile}`, () => engine!.docker(["logs", events.name]).stderr.includes(`following ${events.logFile}`), 30_000, 500);
  });

  afterAll(async () => {
    await netAgent?.stop();
    await engine?.stop();
    if (imageDir) rmSync(imageDir, { recursive: true, force: true });
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  /** What the webhook receiver got so far. */
  const webhookPosts = async (): Promise<RecordedRequest[]> => (await netAgent!.call<RecordedRequest[]>({ op: "httpsRequests" })).filter((r) => r.url === WEBHOOK_PATH);
  /** Every JSON line a container printed on stdout. */
  const stdoutLines = (container: string): Json[] =>
    engine!.docker(["logs", container]).stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Json);
  /** The alert lines (firing, resolved, delivery failed) both evaluators printed so far. */
  const alertLines = (): AlertLine[] =>
    [plan.gateway!.name, plan.proxyEvents!.name].flatMap((container) =>
      stdoutLines(container).filter((line) => String(line.event_type).startsWith("alert_")).map((line) => ({ container, line })));

  it("5 refused CONNECTs, 3 permission refusals and 10 rate-limited calls from one agent: one alert each, delivered to Slack, each resolved once, nothing else", async () => {
    const agent = plan.agents[0];
    const role = plan.roles.find((r) => r.name === agent.role)!;
    const listener = plan.gateway!.roles.find((r) => r.role === role.name)!;

    const connects = probeFrom(engine!, agent.name, BLOCKED_HOSTS.map((host) => ({ id: host, host: role.docker!.proxyAddress, port: role.proxyPort, send: connectRequest(host) })));
    // Refused CONNECTs are closed unanswered; the proxy logs each as network_blocked.
    for (const host of BLOCKED_HOSTS) expect(connects.get(host), `CONNECT ${host}`).toBe("");
    const blocked = () => stdoutLines(plan.names.proxy).filter((l) => l.event === "network_blocked");
    await until("the proxy's 5 network_blocked lines", () => blocked().length >= BLOCKED_HOSTS.length, 10_000, 250);
    expect(blocked().map((l) => [l.role, l.host]).sort()).toEqual(BLOCKED_HOSTS.map((host) => [role.name, host]));

    const refused = httpFrom(engine!, agent.name, { host: listener.address!, port: listener.port }, Array.from({ length: THRESHOLDS.permissionDenied.count }, (_, i) => ({ method: "GET", path: `/tools/send_email/refused/${i}` })));
    expect(refused.map((a) => a.status), refused.map((a) => a.raw).join("\n")).toEqual(Array<number>(THRESHOLDS.permissionDenied.count).fill(403));

    const calls = Array.from({ length: 1 + THRESHOLDS.rateLimited.count }, (_, i) => ({ method: "GET", path: `/tools/database/limited/${i}` }));
    const limited = httpFrom(engine!, agent.name, { host: listener.address!, port: listener.port }, calls);
    expect(limited.map((a) => a.status), limited.map((a) => a.raw).join("\n")).toEqual([200, ...Array<number>(THRESHOLDS.rateLimited.count).fill(429)]);

    // Each breach fires, then resolves once its window empties: three of each, from either evaluator.
    const settled = () => {
      const lines = alertLines().map((a) => a.line.event_type);
      return lines.filter((t) => t === "alert_firing").length >= 3 && lines.filter((t) => t === "alert_resolved").length >= 3;
    };
    await until("three alerts fired and resolved", settled, 4 * WINDOW_SEC * 1000, 500).catch((error: Error) => {
      throw new Error(`${error.message}; alert lines so far:\n${alertLines().map((a) => `${a.container}: ${JSON.stringify(a.line)}`).join("\n")}`);
    });
    const lines = alertLines();
    const context = lines.map((a) => `${a.container}: ${JSON.stringify(a.line)}`).join("\n");
    const firing = lines.filter((a) => a.line.event_type === "alert_firing");
    expect(firing.map((a) => [a.line.details.rule, a.line.details.severity, a.line.agent_role, a.line.tool, a.line.details.count]).sort(), context).toEqual([
      ["network_blocked", "critical", role.name, null, THRESHOLDS.networkBlocked.count],
      ["permission_denied", "critical", role.name, null, THRESHOLDS.permissionDenied.count],
      ["rate_limited", "warning", role.name, "database", THRESHOLDS.rateLimited.count],
    ]);
    const firingOf = (rule: string) => firing.find((a) => a.line.details.rule === rule)!;
    // Squid's refusals are counted by proxy-events, the gateway's by the gateway.
    expect(firingOf("network_blocked").container, context).toBe(plan.proxyEvents!.name);
    expect(firingOf("network_blocked").line.details.subjects.slice().sort(), context).toEqual(BLOCKED_HOSTS);
    expect(firingOf("permission_denied").container, context).toBe(plan.gateway!.name);
    expect(firingOf("permission_denied").line.details.subjects, context).toEqual(["send_email"]);
    expect(firingOf("rate_limited").container, context).toBe(plan.gateway!.name);
    // Each firing resolved once, under its own breach's key; nothing else was printed.
    const resolved = lines.filter((a) => a.line.event_type === "alert_resolved");
    expect(resolved.map((a) => a.line.details.dedup_key).sort(), context).toEqual(firing.map((a) => a.line.details.dedup_key).sort());
    expect(lines, context).toHaveLength(6);

    // The receiver gets one Slack message per line, in Slack's format ({ text } alone), and nothing else.
    await until("six webhook deliveries", async () => (await webhookPosts()).length >= 6, 30_000, 500);
    const posts = await webhookPosts();
    for (const post of posts) {
      expect(post.method).toBe("POST");
      expect(post.headers["content-type"]).toBe("application/json");
      expect(Object.keys(JSON.parse(post.body))).toEqual(["text"]);
    }
    const hosts = firingOf("network_blocked").line.details.subjects.join(", ");
    expect(posts.map((p) => JSON.parse(p.body).text).sort(), context).toEqual([
      `:rotating_light: [CRITICAL] FIRING network_blocked for role ${role.name}: 5 network_blocked events within ${WINDOW_SEC} s (threshold 5) (hosts: ${hosts})`,
      `:white_check_mark: [CRITICAL] RESOLVED network_blocked for role ${role.name}: back below 5 network_blocked events within ${WINDOW_SEC} s`,
      `:rotating_light: [CRITICAL] FIRING permission_denied for role ${role.name}: 3 permission_denied events within ${WINDOW_SEC} s (threshold 3) (tools: send_email)`,
      `:white_check_mark: [CRITICAL] RESOLVED permission_denied for role ${role.name}: back below 3 permission_denied events within ${WINDOW_SEC} s`,
      `:rotating_light: [WARNING] FIRING rate_limited for role ${role.name}, tool database: 10 rate_limited events within ${WINDOW_SEC} s (threshold 10)`,
      `:white_check_mark: [WARNING] RESOLVED rate_limited for role ${role.name}, tool database: back below 10 rate_limited events within ${WINDOW_SEC} s`,
    ].sort());
    // Every delivery succeeded: no alert_delivery_failed line came after them.
    expect(alertLines().map((a) => `${a.container}: ${JSON.stringify(a.line)}`).join("\n")).toBe(context);
  });
});
