/**
 * The stack's `probe_<role>` outputs: how to run `rapidclaw probe` as each role. Docker: a
 * `docker run` on the role's network as its agents' user with their variables; Kubernetes: a Job
 * with the role's labels, ServiceAccount and variables, from the gateway's ConfigMaps. Deterministic.
 */
import { App } from "cdktf";
import { describe, expect, it } from "vitest";
import { RapidClawStack } from "../src";
import { AgentPlatform, type FirewallSpecProps } from "../src/model/types";
import { firewallScenario } from "../examples/firewall-scenario";
import { compileFirewall } from "../src/plan/plan";
import { roleUids } from "../src/plan/role-uids";
import { fronted } from "./support/gateway-spec";
import { synthesize } from "./support/synth";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const probeOutputs = (props: FirewallSpecProps): Record<string, any> => {
  const doc = synthesize(new RapidClawStack(new App(), "agent-firewall", props)).doc;
  return Object.fromEntries(Object.entries(doc.output ?? {}).filter(([name]) => name.startsWith("probe_")));
};

describe("probe outputs", () => {
  it("Docker: one command per role, on the role's network, as its agents' user with their resolver, proxy, role and gateway", () => {
    const outputs = probeOutputs(fronted(AgentPlatform.DOCKER));
    expect(Object.keys(outputs)).toEqual(["probe_customer_support", "probe_research_agent"]);
    const user = compileFirewall(fronted(AgentPlatform.DOCKER)).agents.find((a) => a.role === "research_agent")!.user;
    expect(user).toMatch(/^2\d{6}:2\d{6}$/);
    expect(outputs.probe_research_agent.value).toBe([
      `docker run --rm --network rapidclaw-agents-research-agent --user ${user} --dns 127.0.0.1 --read-only --cap-drop ALL --security-opt no-new-privileges`,
      "-e HTTPS_PROXY=http://172.30.16.2:3128 -e RAPIDCLAW_ROLE=research_agent -e RAPIDCLAW_GATEWAY_URL=http://172.30.16.3:8080",
      '-v "$PWD/node_modules/@rapidclaw/agent-firewall/dist/gateway/rapidclaw-gateway.cjs:/opt/rapidclaw/rapidclaw.cjs:ro"',
      '-v "$(realpath "$RAPIDCLAW_FIREWALL_FILE"):/etc/rapidclaw/firewall.yaml:ro"',
      "node:22.12.0-bookworm-slim node /opt/rapidclaw/rapidclaw.cjs probe --config /etc/rapidclaw/firewall.yaml",
    ].join(" "));
    // Without a gateway: no gateway variable; the agent's own user, else the role's uid; a role that opts in to DNS keeps the engine's resolver.
    const seed = firewallScenario(AgentPlatform.DOCKER);
    const plain = probeOutputs({
      ...seed,
      roles: { ...seed.roles, research_agent: { ...seed.roles.research_agent, network: { ...seed.roles.research_agent.network, dnsReason: "resolves the hosts of its own tools" } } },
      agents: [{ name: "a-agent", image: "x", role: "customer_support", user: "20001:20001" }],
    });
    expect(plain.probe_customer_support.value).toContain("--user 20001:20001 --dns 127.0.0.1 ");
    expect(plain.probe_customer_support.value).not.toContain("RAPIDCLAW_GATEWAY_URL");
    const uid = roleUids("rapidclaw", ["customer_support", "research_agent"]).get("research_agent");
    expect(plain.probe_research_agent.value).toContain(`--user ${uid}:${uid} --read-only `);
  });

  it("Kubernetes: a Job per role with the role's labels, ServiceAccount, agents' uid, resolver and variables, the bundle joined from the gateway's ConfigMaps", () => {
    const job = probeOutputs(fronted(AgentPlatform.KUBERNETES)).probe_research_agent.value;
    const labels = { "app.kubernetes.io/managed-by": "rapidclaw", "rapidclaw.dev/component": "agent", "rapidclaw.dev/role": "research-agent" };
    expect(job).toMatchObject({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "rapidclaw-probe-research-agent", namespace: "ai-agents", labels }, spec: { backoffLimit: 0 } });
    const pod = job.spec.template.spec;
    expect(job.spec.template.metadata.labels).toEqual(labels);
    expect(pod).toMatchObject({ serviceAccountName: "research-agent-agent", automountServiceAccountToken: false, restartPolicy: "Never", securityContext: { runAsUser: 10001, runAsNonRoot: true }, dnsPolicy: "None", dnsConfig: { nameservers: ["127.0.0.1"] } });
    expect(pod.containers[0].command).toEqual(["node", "/opt/rapidclaw/rapidclaw.cjs", "probe", "--config", "/etc/rapidclaw/firewall.json"]);
    expect(pod.containers[0].env).toEqual([
      // By the Services' cluster IPs (Terraform references), as the agents get them.
      { name: "HTTPS_PROXY", value: expect.stringMatching(/^http:\/\/\$\{kubernetes_service_v1\.egress-proxy_.*\.spec\[0\]\.cluster_ip\}:3129$/) },
      { name: "RAPIDCLAW_ROLE", value: "research_agent" },
      { name: "RAPIDCLAW_GATEWAY_URL", value: expect.stringMatching(/^http:\/\/\$\{kubernetes_service_v1\.tool-gateway_.*\.spec\[0\]\.cluster_ip\}:8081$/) },
    ]);
    expect(pod.initContainers[0].command.slice(3)).toEqual(["/opt/rapidclaw/rapidclaw.cjs", "/opt/rapidclaw-bundle-parts/0/rapidclaw-gateway.cjs.part", "/opt/rapidclaw-bundle-parts/1/rapidclaw-gateway.cjs.part"]);
    expect(pod.volumes.map((v: { name: string }) => v.name)).toEqual(["bundle", "config", "bundle-0", "bundle-1"]);
  });

  it("Kubernetes without a tool gateway: no Job (the gateway's ConfigMaps carry the probe)", () => {
    expect(probeOutputs(firewallScenario(AgentPlatform.KUBERNETES))).toEqual({});
  });

  it("is the same JSON on every synthesis", () => {
    for (const platform of [AgentPlatform.DOCKER, AgentPlatform.KUBERNETES]) {
      expect(JSON.stringify(probeOutputs(fronted(platform)))).toBe(JSON.stringify(probeOutputs(fronted(platform))));
    }
  });
});
