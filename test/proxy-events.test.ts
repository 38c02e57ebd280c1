import { App } from "cdktf";
import { describe, expect, it } from "vitest";
import { AgentPlatform, RapidClawStack, type FirewallSpecProps } from "../src";
import { firewallScenario } from "../examples/firewall-scenario";
import { fronted } from "./support/gateway-spec";
import { squidBinary, squidParse } from "./support/squid";
import { synthesize } from "./support/synth";

function dockerStack(props: FirewallSpecProps) {
  return synthesize(new RapidClawStack(new App(), "firewall", props));
}

const byName = (synth: ReturnType<typeof dockerStack>, name: string) => synth.resources("docker_container").find((c) => c.name === name) as Record<string, any>;
const networkRef = (synth: ReturnType<typeof dockerStack>, name: string) => {
  const [id] = Object.entries<any>(synth.doc.resource.docker_network).find(([, n]) => n.name === name) ?? [];
  return `\${docker_network.${id}.name}`;
};
const isAgent = (container: Record<string, any>) => container.labels.some((l: any) => l.label === "rapidclaw.dev/component" && l.value === "agent");

describe("proxy-events on Docker", () => {
  it("runs beside the proxy without a gateway: the proxy's log volume read-only, a bundled Redis on a network of their own that no agent joins", () => {
    const synth = dockerStack(firewallScenario(AgentPlatform.DOCKER));
    const events = byName(synth, "rapidclaw-proxy-events");
    const redis = byName(synth, "rapidclaw-events-redis");
    expect(events.entrypoint).toEqual([
      "node", "/opt/rapidclaw/rapidclaw-gateway.cjs", "proxy-events", "--config", "/etc/rapidclaw/firewall.json", "--log", "/var/log/squid/events.log",
      "--redis", "redis://172.31.128.195:6379", "--admin-host", "127.0.0.1", "--admin-port", "9465",
    ]);
    expect(events.volumes).toEqual([{ from_container: "${docker_container.egress-proxy_docker_container_AEAD4AF7.name}", read_only: true }]);
    expect(events.networks_advanced).toEqual([{ name: networkRef(synth, "rapidclaw-events"), ipv4_address: "172.31.128.194" }]);
    expect(redis.networks_advanced).toEqual([{ name: networkRef(synth, "rapidclaw-events"), ipv4_address: "172.31.128.195" }]);
    expect(redis.entrypoint.slice(0, 3)).toEqual(["redis-server", "--bind", "172.31.128.195"]);
    const eventsNetwork = Object.values<any>(synth.doc.resource.docker_network).find((n) => n.name === "rapidclaw-events");
    expect(eventsNetwork).toMatchObject({ internal: true, ipam_config: [{ subnet: "172.31.128.192/26", gateway: "172.31.128.193" }] });
    const onIt = synth.resources("docker_container").filter((c) => c.networks_advanced.some((n: any) => n.name === networkRef(synth, "rapidclaw-events")));
    expect(onIt.map((c) => c.name).sort()).toEqual(["rapidclaw-events-redis", "rapidclaw-proxy-events"]);
    expect(onIt.some(isAgent)).toBe(false);
    // The firewall file it loads: the description without the allocation record.
    const config = JSON.parse(events.upload.find((u: any) => u.file === "/etc/rapidclaw/firewall.json").content);
    expect(Object.keys(config.roles).sort()).toEqual(["customer_support", "research_agent"]);
    expect(events).toMatchObject({ user: "10004:13", read_only: true, capabilities: { drop: ["ALL"] }, security_opts: ["no-new-privileges:true"] });
  });

  it("shares the gateway's Redis when there is a gateway: at the fourth address of the gateway's Redis network, and no Redis of its own", () => {
    const synth = dockerStack(fronted(AgentPlatform.DOCKER));
    const events = byName(synth, "rapidclaw-proxy-events");
    expect(byName(synth, "rapidclaw-events-redis")).toBeUndefined();
    expect(events.networks_advanced).toEqual([{ name: networkRef(synth, "rapidclaw-gateway-limits"), ipv4_address: "172.31.128.68" }]);
    expect(events.entrypoint).toContain("redis://172.31.128.67:6379");
    const onRedisNetwork = synth.resources("docker_container").filter((c) => c.networks_advanced.some((n: any) => n.name === networkRef(synth, "rapidclaw-gateway-limits")));
    expect(onRedisNetwork.map((c) => c.name).sort()).toEqual(["rapidclaw-gateway-redis", "rapidclaw-proxy-events", "rapidclaw-tool-gateway"]);
  });

  it.skipIf(squidBinary === undefined)("has Squid write every access line to the event log too, in a squid.conf real Squid accepts", () => {
    const synth = dockerStack(firewallScenario(AgentPlatform.DOCKER));
    const proxy = byName(synth, "rapidclaw-egress-proxy");
    const conf = (proxy.upload[0].content as string).replace(/%%\{/g, "%{").replace(/\$\$\{/g, "${");
    expect(conf).toContain("access_log stdio:/var/log/squid/events.log rapidclaw");
    expect(conf).toContain("access_log stdio:/dev/stdout rapidclaw");
    expect(squidParse(conf).problems).toEqual([]);
  });
});
