import { parse as parseHcl } from "@cdktf/hcl2json";
import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { firewallScenario } from "../examples/firewall-scenario";
import { gatewayConfigFromSpec } from "../src/gateway/config";
import { KeyStore } from "../src/gateway/key-store";
import { readRedisCredentials } from "../src/gateway/redis-credentials";
import { AgentPlatform, AlertSeverity, KeyDelivery, WebhookFormat, type FirewallSpecProps } from "../src/model/types";
import { validateFirewallSpec } from "../src/model/validate";
import { compileFirewall } from "../src/plan/plan";
import { deployedWebhooks } from "../src/plan/webhook-delivery";
import { VaultAgentConfig, type VaultAgentConfigProps } from "../src/render/vault-agent-config";
import { anyFirewallSpecArb } from "./support/arbitraries";

/**
 * Settings of each block as Vault Agent documents them (agent, auto-auth AppRole and Kubernetes
 * methods, template, template_config); the rendered config may use no other.
 */
const DOCUMENTED = {
  top: ["auto_auth", "template", "template_config", "vault"],
  vault: ["address"],
  method: ["config", "mount_path"],
  approle: ["remove_secret_id_file_after_reading", "role_id_file_path", "secret_id_file_path"],
  kubernetes: ["role", "token_path"],
  templateConfig: ["exit_on_retry_failure", "static_secret_render_interval"],
  template: ["contents", "destination", "error_on_missing_key", "perms"],
};

const APPROLE = { roleIdFile: "/vault/auth/role-id", secretIdFile: "/vault/auth/secret-id" };
const KEY_DIR = "/run/rapidclaw/keys";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Parsed = any;
const parse = (text: string): Promise<Parsed> => parseHcl("agent.hcl", text);

/** Tools whose key the gateway of this firewall loads (its key store's list). */
const keyedTools = (spec: FirewallSpecProps) => [...gatewayConfigFromSpec(validateFirewallSpec(spec)).tools.values()].filter((t) => t.keyHeader !== undefined).map((t) => t.name);

/** Asserts the documented shape of a rendered config and returns its templates by destination. */
function templatesOf(parsed: Parsed, login: "approle" | "kubernetes"): Map<string, Parsed> {
  expect(Object.keys(parsed).filter((k) => k !== "template")).toEqual(DOCUMENTED.top.filter((k) => k !== "template"));
  expect(parsed.vault).toHaveLength(1);
  expect(Object.keys(parsed.vault[0])).toEqual(DOCUMENTED.vault);
  expect(parsed.auto_auth).toHaveLength(1);
  expect(Object.keys(parsed.auto_auth[0])).toEqual(["method"]);
  expect(Object.keys(parsed.auto_auth[0].method)).toEqual([login]);
  const method = parsed.auto_auth[0].method[login][0];
  expect(Object.keys(method)).toEqual(DOCUMENTED.method);
  expect(Object.keys(method.config)).toEqual(DOCUMENTED[login]);
  expect(parsed.template_config).toEqual([{ exit_on_retry_failure: true, static_secret_render_interval: expect.stringMatching(/^[1-9][0-9]*[smh]$/) }]);
  const templates = new Map<string, Parsed>();
  for (const template of parsed.template ?? []) {
    expect(Object.keys(template)).toEqual(DOCUMENTED.template);
    expect(template).toMatchObject({ perms: "0400", error_on_missing_key: true });
    expect(templates.has(template.destination), template.destination).toBe(false);
    templates.set(template.destination, template);
  }
  return templates;
}

/** The seed with an upstream on every keyed tool, so that the gateway holds each key. */
function gatewayHeld(spec: FirewallSpecProps): FirewallSpecProps {
  const tools = Object.fromEntries(Object.entries(spec.tools).map(([name, tool]) => [name, tool.key ? { ...tool, upstream: `https://${name.replace(/_/g, "-")}.example.com` } : tool]));
  return { ...spec, tools };
}

const secretTemplate = (path: string) => `{{ with secret "${path}" }}{{ .Data.data.api_key }}{{ end }}`;

describe("Vault Agent config for the gateway (parsed by a real HCL parser)", () => {
  it("renders the gateway's Redis login from <mount>/data/<credentialsSecret> as JSON the gateway reads, 0400, failing on a missing field", async () => {
    const spec = gatewayHeld({ ...firewallScenario(AgentPlatform.KUBERNETES), gateway: { redis: { url: "rediss://redis.internal:6380", credentialsSecret: "redis/gateway" } } });
    const plan = compileFirewall(spec);
    const file = plan.gateway!.paths.redisCredentials;
    const templates = templatesOf(await parse(VaultAgentConfig.renderForPlan(plan, { vaultAddress: "https://vault:8200", keyDir: KEY_DIR, kubernetes: { role: "rapidclaw-tool-gateway" } })), "kubernetes");
    const contents = templates.get(file).contents as string;
    expect(contents).toBe(`{{ with secret "${plan.vault.mountPath}/data/redis/gateway" }}{"username":{{ .Data.data.username | toJSON }},"password":{{ .Data.data.password | toJSON }}}{{ end }}`);
    expect([...templates.keys()].filter((destination) => !destination.startsWith(`${KEY_DIR}/`))).toEqual([]);
    // Vault Agent cannot run here; toJSON of a string is its JSON string, so this is the file it writes for a hostile password.
    const written = contents.replace(/^\{\{ with secret "[^"]+" \}\}|\{\{ end \}\}$/g, "").replace(/\{\{ \.Data\.data\.(\w+) \| toJSON \}\}/g, (_, field) => JSON.stringify(field === "username" ? "gw" : 'p"w\\{{x}}\n'));
    const path = join(mkdtempSync(join(tmpdir(), "hrc-credentials-")), "redis-credentials.json");
    writeFileSync(path, written);
    expect(readRedisCredentials(path)).toEqual({ username: "gw", password: 'p"w\\{{x}}\n' });
    rmSync(dirname(path), { recursive: true });
    const without = await parse(VaultAgentConfig.renderForPlan(compileFirewall(gatewayHeld(firewallScenario(AgentPlatform.KUBERNETES))), { vaultAddress: "https://vault:8200", keyDir: KEY_DIR, kubernetes: { role: "rapidclaw-tool-gateway" } }));
    expect(without.template.map((t: Parsed) => t.destination)).not.toContain(file);
  });

  it("renders each vaultSecret webhook's url (pagerduty: and routingKey) where the deployed firewall file points the evaluator, 0400, failing on a missing field", async () => {
    const webhooks = [
      { severity: AlertSeverity.WARNING, format: WebhookFormat.SLACK, vaultSecret: "slack" },
      { severity: AlertSeverity.CRITICAL, format: WebhookFormat.PAGERDUTY, vaultSecret: "oncall/pagerduty" },
    ];
    const spec = { ...gatewayHeld(firewallScenario(AgentPlatform.DOCKER)), monitoring: { webhooks } };
    const plan = compileFirewall(spec);
    const templates = templatesOf(await parse(VaultAgentConfig.renderForPlan(plan, { vaultAddress: "https://vault:8200", keyDir: KEY_DIR, appRole: APPROLE })), "approle");
    const files = deployedWebhooks(webhooks).flatMap((hook) => [hook.urlFile, hook.routingKeyFile].filter((f): f is string => f !== undefined));
    expect(files).toEqual(["/run/rapidclaw/webhooks/0/url", "/run/rapidclaw/webhooks/1/url", "/run/rapidclaw/webhooks/1/routingKey"]);
    const field = (name: string, path: string) => `{{ with secret "${plan.vault.mountPath}/data/webhooks/${path}" }}{{ .Data.data.${name} }}{{ end }}`;
    expect(files.map((file) => templates.get(file)?.contents)).toEqual([field("url", "slack"), field("url", "oncall/pagerduty"), field("routingKey", "oncall/pagerduty")]);
    // proxy-events' configuration: the webhooks alone, no key directory.
    const alone = templatesOf(await parse(VaultAgentConfig.render({ vaultAddress: "https://vault:8200", authPath: "approle", appRole: APPROLE, mountPath: plan.vault.mountPath, secrets: [], webhooks: plan.gateway!.webhookSecrets })), "approle");
    expect([...alone.keys()].sort()).toEqual([...files].sort());
  });

  it("logs in with AppRole, keeps the secret ID file, and renders each gateway-held key's api_key to <keyDir>/<tool>", async () => {
    const spec = gatewayHeld(firewallScenario(AgentPlatform.DOCKER));
    const text = VaultAgentConfig.renderForPlan(compileFirewall(spec), { vaultAddress: "https://vault.internal:8200", keyDir: KEY_DIR, appRole: APPROLE });
    const parsed = await parse(text);
    const templates = templatesOf(parsed, "approle");
    expect(parsed.vault[0].address).toBe("https://vault.internal:8200");
    expect(parsed.auto_auth[0].method.approle[0]).toEqual({
      mount_path: "auth/approle",
      config: { role_id_file_path: APPROLE.roleIdFile, secret_id_file_path: APPROLE.secretIdFile, remove_secret_id_file_after_reading: false },
    });
    expect(parsed.template_config[0].static_secret_render_interval).toBe(VaultAgentConfig.DEFAULT_RENDER_INTERVAL);
    expect([...templates.keys()]).toEqual(["database", "file_upload", "send_email", "web_search"].map((tool) => `${KEY_DIR}/${tool}`));
    expect(templates.get(`${KEY_DIR}/web_search`).contents).toBe(secretTemplate("agent-keys/data/tools/web-search"));
    expect(keyedTools(spec).sort()).toEqual(["database", "file_upload", "send_email", "web_search"]);
  });

  it("logs in with the ServiceAccount token on Kubernetes, at the firewall's auth path and mount", async () => {
    const spec = { ...gatewayHeld(firewallScenario(AgentPlatform.KUBERNETES)), vault: { mountPath: "team-a/keys", authPath: "k8s-prod" } };
    const text = VaultAgentConfig.renderForPlan(compileFirewall(spec), { vaultAddress: "http://vault:8200", keyDir: KEY_DIR, kubernetes: { role: "rapidclaw-gateway" }, staticSecretRenderInterval: "30s" });
    const parsed = await parse(text);
    const templates = templatesOf(parsed, "kubernetes");
    expect(parsed.auto_auth[0].method.kubernetes[0]).toEqual({
      mount_path: "auth/k8s-prod",
      config: { role: "rapidclaw-gateway", token_path: "/var/run/secrets/kubernetes.io/serviceaccount/token" },
    });
    expect(parsed.template_config[0].static_secret_render_interval).toBe("30s");
    expect(templates.get(`${KEY_DIR}/send_email`).contents).toBe(secretTemplate("team-a/keys/data/tools/send-email"));
  });

  it("over generated firewalls: one template per key the gateway loads, reading exactly the path its policy grants; the same text for any order", async () => {
    await fc.assert(
      fc.asyncProperty(anyFirewallSpecArb, fc.boolean(), async (spec, k8s) => {
        const plan = compileFirewall(spec);
        const login = k8s ? { kubernetes: { role: "gw" } } : { appRole: APPROLE };
        const text = VaultAgentConfig.renderForPlan(plan, { vaultAddress: "https://vault:8200", keyDir: KEY_DIR, ...login });
        const templates = templatesOf(await parse(text), k8s ? "kubernetes" : "approle");
        const mount = spec.vault?.mountPath ?? "agent-keys";
        const expected = keyedTools(spec).sort();
        expect([...templates.keys()].sort()).toEqual(expected.map((tool) => `${KEY_DIR}/${tool}`));
        for (const tool of expected) expect(templates.get(`${KEY_DIR}/${tool}`).contents).toBe(secretTemplate(`${mount}/data/tools/${tool.replace(/_/g, "-")}`));
        const secrets = plan.tools.flatMap((t) => (t.key?.delivery === KeyDelivery.GATEWAY ? [{ tool: t.name, secretName: t.key.secretName }] : []));
        const props: VaultAgentConfigProps = { vaultAddress: "https://vault:8200", keyDir: KEY_DIR, mountPath: plan.vault.mountPath, authPath: plan.vault.authPath, ...login, secrets };
        expect(VaultAgentConfig.render({ ...props, secrets: [...secrets].reverse() })).toBe(text);
      }),
      { numRuns: 40 },
    );
  });

  it("writes files the gateway's key store loads, when they arrive as Vault Agent writes them (a temporary file renamed into place, mode 0400)", async () => {
    const spec = gatewayHeld(firewallScenario(AgentPlatform.DOCKER));
    const keyDir = mkdtempSync(join(tmpdir(), "hrun-vault-agent-keys-"));
    const store = new KeyStore(keyDir, keyedTools(spec), 50);
    try {
      const parsed = await parse(VaultAgentConfig.renderForPlan(compileFirewall(spec), { vaultAddress: "https://vault:8200", keyDir, appRole: APPROLE }));
      const destinations = [...templatesOf(parsed, "approle").keys()];
      for (const destination of destinations) {
        const temporary = join(dirname(destination), `.${basename(destination)}-render`);
        writeFileSync(temporary, `key-of-${basename(destination)}`);
        chmodSync(temporary, 0o400);
        renameSync(temporary, destination);
      }
      await store.start();
      expect(store.missing()).toEqual([]);
      for (const destination of destinations) expect(store.get(basename(destination))).toBe(`key-of-${basename(destination)}`);
    } finally {
      store.stop();
      rmSync(keyDir, { recursive: true, force: true });
    }
  });

  it("escapes quotes and backslashes, and refuses interpolation sequences that HCL 1 and 2 read differently", async () => {
    const keyDir = '/keys/"q"/back\\slash';
    const base = { vaultAddress: "https://vault:8200", authPath: "approle", appRole: APPROLE, mountPath: "agent-keys", secrets: [{ tool: "web_search", secretName: "tools/web-search" }], keyDir };
    expect((await parse(VaultAgentConfig.render(base))).template[0].destination).toBe(`${keyDir}/web_search`);
    expect(() => VaultAgentConfig.render({ ...base, keyDir: "/keys/${HOME}", appRole: { ...APPROLE, roleIdFile: "/a/%{ if x }" } }))
      .toThrow(/keyDir "\/keys\/\$\{HOME\}" holds.*appRole\.roleIdFile "\/a\/%\{ if x \}" holds/);
  });

  it("lists every bad property at once, with the fix", () => {
    expect(() => VaultAgentConfig.render({
      vaultAddress: "vault:8200",
      authPath: "auth/approle",
      appRole: APPROLE,
      kubernetes: { role: "gw" },
      mountPath: "agent-keys",
      secrets: [{ tool: "web_search", secretName: "tools/web-search" }, { tool: "web_search", secretName: "tools/web-search" }, { tool: "../etc", secretName: "tools/x" }],
      keyDir: "keys/",
      staticSecretRenderInterval: "5 minutes",
    })).toThrow(/vaultAddress "vault:8200" is not a Vault address.*exactly one of appRole and kubernetes.*keyDir "keys\/" must be an absolute.*authPath "auth\/approle" is not a plain mount path.*staticSecretRenderInterval "5 minutes" is not a duration.*tool "web_search" is listed twice.*tool "\.\.\/etc" cannot name a key file/);
  });
});
