import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { AgentPlatform, AlertSeverity, RapidClawStack, WebhookFormat, type AlertWebhookProps, type FirewallSpecProps } from "../src";
import { firewallScenario } from "../examples/firewall-scenario";
import { loadFirewallSpec } from "../src/model/load";
import { resolveWebhooks } from "../src/monitoring/alert-webhooks";
import { compileFirewall } from "../src/plan/plan";
import { deployedWebhooks } from "../src/plan/webhook-delivery";
import { fronted } from "./support/gateway-spec";
import { failureOf } from "./support/spec-error";
import { synthesize } from "./support/synth";

const withWebhooks = (spec: FirewallSpecProps, webhooks: AlertWebhookProps[]): FirewallSpecProps => ({ ...spec, monitoring: { webhooks } });
const stack = (spec: FirewallSpecProps) => new RapidClawStack(new App(), "firewall", spec);

describe("webhook secrets of the deployed evaluators", () => {
  it("refuses, at each path, webhook secrets nothing in the deployment delivers (the evaluator would exit and crash-loop)", () => {
    const spec = withWebhooks(firewallScenario(AgentPlatform.DOCKER), [
      { severity: AlertSeverity.WARNING, format: WebhookFormat.SLACK, urlEnv: "SLACK_WEBHOOK_URL" },
      { severity: AlertSeverity.CRITICAL, format: WebhookFormat.PAGERDUTY, routingKeyFile: "/vault/secrets/pagerduty" },
    ]);
    const error = failureOf(() => stack(spec));
    expect(error.problems.map((p) => p.path)).toEqual(["monitoring.webhooks[0].urlEnv", "monitoring.webhooks[1].routingKeyFile"]);
    expect(error.problems[0].message).toContain("the deployed proxy-events would get no environment variable SLACK_WEBHOOK_URL and refuse to start");
    const kubernetes = failureOf(() => stack(withWebhooks(fronted(AgentPlatform.KUBERNETES), [{ severity: AlertSeverity.WARNING, format: WebhookFormat.SLACK, urlFile: "/vault/secrets/slack" }])));
    expect(kubernetes.problems).toEqual([{ construct: "firewall", path: "monitoring.webhooks[0].urlFile", message: expect.stringContaining("the deployed tool gateway and proxy-events would get no file /vault/secrets/slack and refuse to start; give kubernetesSecret") }]);
  });

  it("Kubernetes: mounts each webhook's Secret into the gateway, where its deployed firewall file points the evaluator, which reads it", () => {
    const spec = withWebhooks(fronted(AgentPlatform.KUBERNETES), [
      { severity: AlertSeverity.WARNING, format: WebhookFormat.SLACK, kubernetesSecret: "slack-webhook" },
      { severity: AlertSeverity.CRITICAL, format: WebhookFormat.PAGERDUTY, kubernetesSecret: "pagerduty" },
    ]);
    const synth = synthesize(stack(spec));
    const deployment = synth.resources("kubernetes_deployment_v1").find((d) => d.metadata.name === "rapidclaw-tool-gateway") as Record<string, any>;
    const pod = deployment.spec.template.spec;
    expect(pod.volume.filter((v: any) => v.secret)).toEqual([
      { name: "webhook-0", secret: { secret_name: "slack-webhook", default_mode: "0444" } },
      { name: "webhook-1", secret: { secret_name: "pagerduty", default_mode: "0444" } },
    ]);
    const gateway = pod.container.find((c: any) => c.name === "gateway");
    expect(gateway.volume_mount.filter((m: any) => m.name.startsWith("webhook-"))).toEqual([
      { name: "webhook-0", mount_path: "/run/rapidclaw/webhooks/0", read_only: true },
      { name: "webhook-1", mount_path: "/run/rapidclaw/webhooks/1", read_only: true },
    ]);
    // The firewall file the gateway loads, through the real loader and the evaluator's resolver.
    const configMap = synth.resources("kubernetes_config_map_v1").find((c) => c.metadata.name === "rapidclaw-tool-gateway") as Record<string, any>;
    const dir = mkdtempSync(join(tmpdir(), "rapidclaw-webhooks-"));
    try {
      const file = join(dir, "firewall.json");
      writeFileSync(file, Object.values<string>(configMap.data)[0]);
      // Sorted like every list of the canonical file: each webhook carries its own files.
      const webhooks = [...compileFirewall(loadFirewallSpec(file)).monitoring.webhooks].sort((a, b) => String(a.urlFile).localeCompare(String(b.urlFile)));
      expect(webhooks.map((w) => [w.urlFile, w.routingKeyFile, w.kubernetesSecret])).toEqual([
        ["/run/rapidclaw/webhooks/0/url", undefined, undefined],
        ["/run/rapidclaw/webhooks/1/url", "/run/rapidclaw/webhooks/1/routingKey", undefined],
      ]);
      // Where the mounts would be, here: the evaluator reads the Secret's keys as files.
      const mounted = webhooks.map((w) => ({ ...w, urlFile: w.urlFile?.replace("/run/rapidclaw", dir), routingKeyFile: w.routingKeyFile?.replace("/run/rapidclaw", dir) }));
      for (const [i, keys] of [["url"], ["url", "routingKey"]].entries()) {
        rmSync(join(dir, "webhooks", String(i)), { recursive: true, force: true });
        for (const key of keys) {
          mkdirSync(join(dir, "webhooks", String(i)), { recursive: true });
          writeFileSync(join(dir, "webhooks", String(i), key), `secret-${i}-${key}\n`);
        }
      }
      const resolved = resolveWebhooks(mounted, {});
      expect(resolved.map((w) => [w.url(), w.routingKey()])).toEqual([["secret-0-url", ""], ["secret-1-url", "secret-1-routingKey"]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(synth.json).not.toContain("secret-0-url");
  });

  it("refuses kubernetesSecret on Docker, and beside urlEnv", () => {
    const docker = failureOf(() => stack(withWebhooks(firewallScenario(AgentPlatform.DOCKER), [{ severity: AlertSeverity.WARNING, format: WebhookFormat.SLACK, kubernetesSecret: "slack" }])));
    expect(docker.problems.map((p) => p.path)).toEqual(["monitoring.webhooks[0].kubernetesSecret"]);
    const both = failureOf(() => stack(withWebhooks(fronted(AgentPlatform.KUBERNETES), [{ severity: AlertSeverity.WARNING, format: WebhookFormat.SLACK, kubernetesSecret: "slack", urlEnv: "SLACK" }])));
    expect(both.problems.map((p) => p.path)).toEqual(["monitoring.webhooks[0].urlEnv"]);
  });

  it("vaultSecret: exactly one source per webhook, on Docker only (Kubernetes is told to use kubernetesSecret)", () => {
    const slack = { severity: AlertSeverity.WARNING, format: WebhookFormat.SLACK };
    const kubernetes = failureOf(() => stack(withWebhooks(fronted(AgentPlatform.KUBERNETES), [{ ...slack, vaultSecret: "slack" }])));
    expect(kubernetes.problems).toEqual([{ construct: "firewall", path: "monitoring.webhooks[0].vaultSecret", message: expect.stringContaining("give kubernetesSecret instead") }]);
    const both = failureOf(() => stack(withWebhooks(firewallScenario(AgentPlatform.DOCKER), [{ ...slack, vaultSecret: "slack", kubernetesSecret: "slack", urlEnv: "SLACK" }])));
    expect(both.problems.map((p) => p.path)).toEqual(["monitoring.webhooks[0]", "monitoring.webhooks[0].kubernetesSecret", "monitoring.webhooks[0].urlEnv"]);
    const bad = failureOf(() => stack(withWebhooks(firewallScenario(AgentPlatform.DOCKER), [{ ...slack, vaultSecret: "../Slack" }])));
    expect(bad.problems.map((p) => p.path)).toEqual(["monitoring.webhooks[0].vaultSecret"]);
  });

  it("vaultSecret: the deployed evaluators read the rendered files url and routingKey under the webhook's directory", () => {
    expect(deployedWebhooks([
      { severity: AlertSeverity.WARNING, format: WebhookFormat.SLACK, vaultSecret: "slack" },
      { severity: AlertSeverity.CRITICAL, format: WebhookFormat.PAGERDUTY, vaultSecret: "oncall/pagerduty" },
    ])).toEqual([
      { severity: AlertSeverity.WARNING, format: WebhookFormat.SLACK, urlFile: "/run/rapidclaw/webhooks/0/url" },
      { severity: AlertSeverity.CRITICAL, format: WebhookFormat.PAGERDUTY, urlFile: "/run/rapidclaw/webhooks/1/url", routingKeyFile: "/run/rapidclaw/webhooks/1/routingKey" },
    ]);
  });

  describe("Docker: vaultSecret", () => {
    const hooks: AlertWebhookProps[] = [
      { severity: AlertSeverity.WARNING, format: WebhookFormat.SLACK, vaultSecret: "slack" },
      { severity: AlertSeverity.CRITICAL, format: WebhookFormat.PAGERDUTY, vaultSecret: "oncall/pagerduty" },
    ];
    const byName = (synth: ReturnType<typeof synthesize>, type: string) => Object.fromEntries(synth.resources(type).map((r) => [r.name, r]));
    const mountsOf = (container: Record<string, any>) => (container.mounts ?? []).map((m: any) => [m.source, m.target, m.read_only ?? false]);

    it("each evaluator has a Vault Agent rendering the webhooks into a memory-backed volume it mounts read-only, and a policy reading exactly them", () => {
      const firewall = stack(withWebhooks(fronted(AgentPlatform.DOCKER), hooks));
      // The stack's own layer verification knows both evaluators' grants.
      expect(() => Testing.synth(firewall, true)).not.toThrow();
      const synth = synthesize(firewall);
      const containers = byName(synth, "docker_container");
      const volumes = byName(synth, "docker_volume");
      const webhookMount = (volume: string) => [expect.stringContaining(`${volume}_webhooks_`), "/run/rapidclaw/webhooks", true];
      // The gateway: its keys and the webhooks, each in a volume of its own, both from one Vault Agent.
      expect(mountsOf(containers["rapidclaw-tool-gateway"])).toEqual(expect.arrayContaining([[expect.stringContaining("tool-gateway_docker_keys_"), "/run/rapidclaw/keys", true], webhookMount("tool-gateway_docker")]));
      expect(mountsOf(containers["rapidclaw-tool-gateway-vault-agent"]).map((m: unknown[]) => m[1])).toEqual(["/etc/rapidclaw", "/run/rapidclaw/keys", "/run/rapidclaw/webhooks", "/run/rapidclaw/approle"]);
      // proxy-events: its own Vault Agent, as its own uid (files 0400), on the gateway's Vault network after the gateway's agent and Vault.
      const agent = containers["rapidclaw-proxy-events-vault-agent"];
      expect(agent.user).toBe("10004:13");
      expect(agent.networks_advanced).toEqual([{ name: expect.stringContaining("docker_network.tool-gateway_docker_vault-network_"), ipv4_address: "172.31.128.132" }]);
      expect(mountsOf(containers["rapidclaw-proxy-events"])).toEqual(expect.arrayContaining([webhookMount("proxy-events_docker")]));
      expect(volumes["rapidclaw-proxy-events-webhooks"].driver_opts).toEqual({ type: "tmpfs", device: "tmpfs", o: "size=1m,mode=0700,uid=10004,gid=13" });
      expect(volumes["rapidclaw-tool-gateway-webhooks"].driver_opts.o).toBe("size=1m,mode=0700,uid=10002,gid=10002");
      // Both reach the webhooks through the proxy's egress network, which no agent joins.
      // (the gateway by reference, proxy-events by name: it is created after the proxy, which needs the network)
      for (const name of ["rapidclaw-tool-gateway", "rapidclaw-proxy-events"]) expect(containers[name].networks_advanced.filter((n: any) => /^rapidclaw-egress$|network_egress_/.test(n.name))).toEqual([{ name: expect.any(String) }]);
      // Policies: proxy-events reads exactly the webhooks; the gateway its key and the webhooks.
      const policies = byName(synth, "vault_policy");
      expect(policies["rapidclaw-proxy-events"].policy).toBe('# Read-only access to exactly the tool keys the role may use.\npath "agent-keys/data/webhooks/oncall/pagerduty" {\n  capabilities = ["read"]\n}\npath "agent-keys/data/webhooks/slack" {\n  capabilities = ["read"]\n}\n');
      expect(policies["rapidclaw-tool-gateway"].policy).toContain('path "agent-keys/data/webhooks/slack"');
      const roles = Object.fromEntries(synth.resources("vault_approle_auth_backend_role").map((r) => [r.role_name, r]));
      expect(roles["rapidclaw-proxy-events"]).toMatchObject({ token_policies: [expect.stringMatching(/^\$\{vault_policy.proxy-events_policy_[0-9A-F]+.name}$/)], token_no_default_policy: true, token_bound_cidrs: ["172.31.128.128/26"], secret_id_bound_cidrs: ["172.31.128.128/26"] });
      // Its configuration renders each field, 0400, failing on a missing one.
      const config = containers["rapidclaw-proxy-events-vault-agent"].upload.find((u: any) => u.file.endsWith(".hcl")).content;
      for (const [file, field, path] of [["0/url", "url", "slack"], ["1/url", "url", "oncall/pagerduty"], ["1/routingKey", "routingKey", "oncall/pagerduty"]]) {
        expect(config).toContain(`destination = "/run/rapidclaw/webhooks/${file}"\n  contents = "{{ with secret \\"agent-keys/data/webhooks/${path}\\" }}{{ .Data.data.${field} }}{{ end }}"\n  perms = "0400"\n  error_on_missing_key = true`);
      }
      expect(config).not.toContain("/run/rapidclaw/keys");
    });

    it("without a gateway, proxy-events has a Vault network of its own on the same quarter; no URL is ever in the JSON", () => {
      const seed = firewallScenario(AgentPlatform.DOCKER);
      const synth = synthesize(stack({ ...withWebhooks(seed, hooks), vault: { address: "http://vault:8200" } }));
      const networks = byName(synth, "docker_network");
      expect(networks["rapidclaw-events-vault"]).toMatchObject({ internal: true, ipam_config: [{ subnet: "172.31.128.128/26", gateway: "172.31.128.129" }] });
      expect(Object.keys(byName(synth, "docker_container")).sort()).toContain("rapidclaw-proxy-events-vault-agent");
      expect(synth.json).not.toMatch(/https?:\/\/(?!vault:8200)[^"\s]*(hooks|pagerduty)/);
    });

    it("refuses vaultSecret without vault.address, at its path", () => {
      const error = failureOf(() => stack(withWebhooks(firewallScenario(AgentPlatform.DOCKER), hooks)));
      expect(error.problems).toEqual([{ construct: "firewall", path: "vault.address", message: expect.stringContaining("webhook 0 is read from Vault (vaultSecret slack) by the proxy-events's Vault Agent") }]);
    });
  });
});
