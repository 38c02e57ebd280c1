import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
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
});
