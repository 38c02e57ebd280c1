/** Both line shapes parse into one event model; anything else is refused with the reason. */
import { describe, expect, it } from "vitest";
import { FIREWALL_EVENT_TYPES, formatGatewayEventLine, parseEventLine } from "../src/monitoring/events";
import { FirewallMetrics, OTHER_LABEL } from "../src/monitoring/metrics";

describe("event lines", () => {
  it("parses Squid's access log line (recorded from real Squid)", () => {
    const line = '{"ts":"2026-11-29T10:41:29.234Z","event":"network_blocked","client":"172.30.0.11","role":"research_agent","method":"CONNECT","host":"probe-0.example","port":"443","status":403,"result":"TCP_DENIED","bytes":3401}';
    expect(parseEventLine(line)).toEqual({
      ok: true,
      event: {
        timestampMs: Date.parse("2026-11-29T10:41:29.234Z"),
        eventType: "network_blocked",
        role: "research_agent",
        tool: null,
        host: "probe-0.example",
        sni: null,
        source: "proxy",
        details: { client: "172.30.0.11", method: "CONNECT", port: "443", status: 403, result: "TCP_DENIED", bytes: 3401 },
      },
    });
  });

  it("reads the TLS server name of a tunnel refused for it (domain fronting), and '-' as none", () => {
    const fronted = parseEventLine('{"ts":"2026-11-29T10:41:29.234Z","event":"network_blocked","client":"172.30.16.200","role":"research_agent","method":"CONNECT","host":"arxiv.org","port":"443","sni":"attacker.example","status":200,"result":"NONE_NONE","bytes":0}');
    expect(fronted).toMatchObject({ ok: true, event: { eventType: "network_blocked", host: "arxiv.org", sni: "attacker.example", details: { result: "NONE_NONE" } } });
    const none = parseEventLine('{"ts":"2026-11-29T10:41:29.234Z","event":"network_blocked","client":"172.30.16.200","role":"research_agent","method":"CONNECT","host":"arxiv.org","port":"443","sni":"-","status":200,"result":"NONE_NONE","bytes":0}');
    expect(none.ok && none.event.sni).toBe(null);
  });

  it("reads Squid's '-' (no role: a client the proxy does not know) as no role", () => {
    const parsed = parseEventLine('{"ts":"2026-11-29T10:41:29.234Z","event":"network_blocked","client":"172.30.0.99","role":"-","host":"x.example"}');
    expect(parsed.ok && parsed.event.role).toBe(null);
  });

  it("parses the gateway's event line, and formats it back", () => {
    const line = '{"timestamp":"2026-11-29T10:42:10.000Z","event_type":"rate_limited","tool":"web_search","agent_role":"research_agent","details":{"retry_after_sec":12}}';
    const parsed = parseEventLine(line);
    expect(parsed).toMatchObject({ ok: true, event: { eventType: "rate_limited", role: "research_agent", tool: "web_search", host: null, source: "gateway", details: { retry_after_sec: 12 } } });
    if (parsed.ok) expect(formatGatewayEventLine(parsed.event)).toBe(line);
  });

  it("still counts a proxy line whose agent-chosen host broke the JSON, without the host", () => {
    const line = '{"ts":"2026-11-29T10:41:29.234Z","event":"network_blocked","client":"172.30.0.11","role":"research_agent","method":"CONNECT","host":"evil\\x.example","port":"443","status":403,"result":"TCP_DENIED","bytes":3401}';
    const parsed = parseEventLine(line);
    expect(parsed).toMatchObject({ ok: true, event: { eventType: "network_blocked", role: "research_agent", host: null, source: "proxy", details: { client: "172.30.0.11" } } });
    expect(parsed.ok && String(parsed.event.details.unparsed)).toMatch(/^not JSON/);
  });

  it.each([
    ["not json", "not JSON"],
    ["[1,2]", "not a JSON object"],
    ['{"a":1}', "neither a gateway event (event_type) nor a proxy line (ts, event)"],
    ['{"timestamp":"2026-11-29 10:00:00","event_type":"x","tool":null,"agent_role":null,"details":{}}', "timestamp is not an ISO-8601 time with a zone"],
    ['{"timestamp":"2026-11-29T10:00:00Z","event_type":"","tool":null,"agent_role":null,"details":{}}', "event_type is not a non-empty string"],
    ['{"ts":"2026-11-29T10:00:00Z","event":7}', "event is not a non-empty string"],
    ['{"ts":"2026-13-45T10:00:00Z","event":"network_blocked"}', "ts is not an ISO-8601 time with a zone"],
  ])("refuses %s", (line, reason) => {
    const parsed = parseEventLine(line);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(reason);
  });
});

describe("metrics", () => {
  it("counts every event; names the firewall does not know (chosen by an agent) fall under one label, hosts never are labels", async () => {
    const metrics = new FirewallMetrics({ roles: ["research_agent"], tools: ["web_search"], eventTypes: FIREWALL_EVENT_TYPES });
    metrics.initialise(["rate_limited"]);
    const at = Date.parse("2026-11-29T10:00:00Z");
    for (let i = 0; i < 50; i++) metrics.countEvent({ timestampMs: at, eventType: "permission_denied", role: "research_agent", tool: `made_up_${i}`, host: `h${i}.example`, source: "gateway", details: {} });
    metrics.countEvent({ timestampMs: at, eventType: "rate_limited", role: "research_agent", tool: "web_search", host: null, source: "gateway", details: {} });
    const text = await metrics.text();
    expect(text).toContain(`rapidclaw_firewall_events_total{event_type="permission_denied",role="research_agent",tool="${OTHER_LABEL}"} 50`);
    expect(text).toContain('rapidclaw_firewall_events_total{event_type="rate_limited",role="research_agent",tool="web_search"} 1');
    // Started at 0 for the rules' event types.
    expect(text).toContain('rapidclaw_firewall_events_total{event_type="rate_limited",role="research_agent",tool=""} 0');
    expect(text).not.toContain("example");
  });
});
