import { byString } from "../model/order";
import { KeyDelivery } from "../model/types";
import type { FirewallPlan } from "../plan/plan";
import { WEBHOOK_SECRETS_ROOT, webhookSecretDir, type VaultWebhookSecret } from "../plan/webhook-delivery";
import { vaultSecretDataPath, type GrantedSecret } from "./vault-policy";

/** Vault Agent logs in with AppRole: role and secret IDs from files (Docker, VMs). */
export interface VaultAgentAppRoleLogin {
  /** File holding the role ID. */
  readonly roleIdFile: string;
  /** File holding the secret ID. */
  readonly secretIdFile: string;
  /**
   * Delete the secret ID file once read. Vault Agent's own default is true; ours is false because
   * the file is usually mounted read-only, and an agent restarted later must log in again.
   * @default false
   */
  readonly removeSecretIdFileAfterReading?: boolean;
}

/** Vault Agent logs in with the pod's ServiceAccount token (Kubernetes auth). */
export interface VaultAgentKubernetesLogin {
  /** Role of the Kubernetes auth backend bound to the gateway's ServiceAccount. */
  readonly role: string;
  /** ServiceAccount token file (a projected token with its own audience goes elsewhere). @default "/var/run/secrets/kubernetes.io/serviceaccount/token" */
  readonly tokenPath?: string;
}

/** The gateway's Redis login: a KV v2 secret with the fields `username` and `password`. */
export interface VaultAgentRedisCredentials {
  /** Secret name inside the mount (`gateway.redis.credentialsSecret`), e.g. `redis/gateway`. */
  readonly secretName: string;
  /** File the gateway reads them from (its `--redis-credentials-file`). */
  readonly file: string;
}

/** Properties of `VaultAgentConfig.render`. Exactly one of `appRole` and `kubernetes`. */
export interface VaultAgentConfigProps {
  /** Vault's address, e.g. `https://vault.example.com:8200`. */
  readonly vaultAddress: string;
  /** Path the auth backend is mounted at, without `auth/` (as `VaultOptions.authPath`). */
  readonly authPath: string;
  readonly appRole?: VaultAgentAppRoleLogin;
  readonly kubernetes?: VaultAgentKubernetesLogin;
  /** KV v2 mount of the keys (as `VaultOptions.mountPath`). */
  readonly mountPath: string;
  /** The keys to render: one file per tool. */
  readonly secrets: ReadonlyArray<GrantedSecret>;
  /** Directory the gateway reads keys from (its `--key-dir`): each key goes to `<keyDir>/<tool>`. @default - none: needed with `secrets` */
  readonly keyDir?: string;
  /**
   * Alert webhooks read from Vault (`vaultSecret`): each one's `url` (PagerDuty: and `routingKey`)
   * field goes to `webhookSecretDir(index)/url` (and `/routingKey`), where the deployed firewall
   * file points the evaluator. @default - none
   */
  readonly webhooks?: ReadonlyArray<VaultWebhookSecret>;
  /** Render the Redis login as `{"username": ..., "password": ...}` to a file of its own. @default - none */
  readonly redisCredentials?: VaultAgentRedisCredentials;
  /**
   * How often KV v2 secrets are read again (they have no lease, so this is the only refresh): the
   * longest a rotated key takes to reach the gateway. @default VaultAgentConfig.DEFAULT_RENDER_INTERVAL
   */
  readonly staticSecretRenderInterval?: string;
}

/** The ServiceAccount token every pod gets, unless automounting is off. */
const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/** Field of each tool's secret holding the key (as ScopedAgentKeys writes it). */
const KEY_FIELD = "api_key";
const DURATION = /^[1-9][0-9]*(s|m|h)$/;

/**
 * Vault Agent configuration that delivers the tools' keys to the tool gateway: auto-auth
 * (AppRole or Kubernetes), one `template` per tool rendering the `api_key` field of
 * `<mount>/data/<secret>` to `<keyDir>/<tool>` (mode 0400, the key alone, no newline), and
 * `template_config` with the static-secret refresh and exit on failure. Vault Agent writes each
 * file to a temporary name and renames it into place, which the gateway's key store follows.
 * With `redisCredentials`, one more template renders the gateway's Redis login as JSON (0400).
 * No token sink: templates use the agent's token in memory, so no token reaches the disk.
 */
export class VaultAgentConfig {
  /**
   * KV v2 refresh by default: rotations happen every `rotationHours` (default 24), so one minute
   * is a small share of a key's life, and one read per tool per minute is little load on Vault.
   * Vault Agent's own default (5m) would leave the old key in use five times as long.
   */
  public static readonly DEFAULT_RENDER_INTERVAL = "1m";

  /** The configuration text (HCL). Pure; throws an Error listing every bad property. */
  public static render(props: VaultAgentConfigProps): string {
    const problems = configProblems(props);
    if (problems.length > 0) throw new Error(`Vault Agent config: ${problems.join("; ")}`);
    const out = [
      `# Vault Agent for the Rapid Claw ${props.keyDir === undefined ? "alert evaluator (proxy-events)" : "tool gateway"}, generated: do not edit by hand.`,
      ...(props.keyDir === undefined ? [] : [`# Renders each tool's key to ${props.keyDir}/<tool>. No token sink: templates use the token in memory.`]),
      ...((props.webhooks ?? []).length === 0 ? [] : [`# Renders each webhook's url (pagerduty: and routingKey) to ${WEBHOOK_SECRETS_ROOT}/<index>/. No token sink.`]),
      "vault {",
      `  address = ${hclString(props.vaultAddress)}`,
      "}",
      "",
      "auto_auth {",
      ...loginMethod(props),
      "}",
      "",
      "template_config {",
      `  static_secret_render_interval = ${hclString(props.staticSecretRenderInterval ?? VaultAgentConfig.DEFAULT_RENDER_INTERVAL)}`,
      // A login or read that keeps failing stops the agent, so its supervisor sees it, instead of old keys living on unnoticed.
      "  exit_on_retry_failure = true",
      "}",
    ];
    const secrets = [...props.secrets].sort((a, b) => byString(a.tool, b.tool));
    for (const secret of secrets) {
      const path = vaultSecretDataPath(props.mountPath, secret.secretName);
      out.push(
        "",
        "template {",
        `  destination = ${hclString(`${props.keyDir}/${secret.tool}`)}`,
        `  contents = ${hclString(`{{ with secret "${path}" }}{{ .Data.data.${KEY_FIELD} }}{{ end }}`)}`,
        `  perms = "0400"`,
        // Without it a secret lacking the field renders "<no value>", which the gateway would send as the key.
        "  error_on_missing_key = true",
        "}",
      );
    }
    for (const hook of [...(props.webhooks ?? [])].sort((a, b) => a.index - b.index)) {
      const path = vaultSecretDataPath(props.mountPath, hook.secretName);
      for (const field of hook.routingKey ? ["url", "routingKey"] : ["url"]) {
        out.push(
          "",
          "template {",
          `  destination = ${hclString(`${webhookSecretDir(hook.index)}/${field}`)}`,
          `  contents = ${hclString(`{{ with secret "${path}" }}{{ .Data.data.${field} }}{{ end }}`)}`,
          `  perms = "0400"`,
          // A secret without the field fails the render instead of the evaluator posting to "<no value>".
          "  error_on_missing_key = true",
          "}",
        );
      }
    }
    if (props.redisCredentials !== undefined) {
      const path = vaultSecretDataPath(props.mountPath, props.redisCredentials.secretName);
      // toJSON quotes and escapes each value, so any password gives valid JSON.
      const json = '{"username":{{ .Data.data.username | toJSON }},"password":{{ .Data.data.password | toJSON }}}';
      out.push(
        "",
        "template {",
        `  destination = ${hclString(props.redisCredentials.file)}`,
        `  contents = ${hclString(`{{ with secret "${path}" }}${json}{{ end }}`)}`,
        `  perms = "0400"`,
        // A secret without either field fails the render instead of giving the gateway a login that cannot work.
        "  error_on_missing_key = true",
        "}",
      );
    }
    return `${out.join("\n")}\n`;
  }

  /**
   * The configuration for every key a firewall's gateway holds (`KeyDelivery.GATEWAY`), and its
   * Redis login when `gateway.redis.credentialsSecret` is set, from its plan's mount and auth path:
   * exactly the files the gateway of the same firewall loads.
   */
  public static renderForPlan(plan: FirewallPlan, props: Omit<VaultAgentConfigProps, "mountPath" | "authPath" | "secrets" | "redisCredentials" | "webhooks">): string {
    const secrets = plan.tools.flatMap((tool) => (tool.key?.delivery === KeyDelivery.GATEWAY ? [{ tool: tool.name, secretName: tool.key.secretName }] : []));
    const secretName = plan.gateway?.redis.credentialsSecret;
    const redisCredentials = secretName === undefined ? undefined : { secretName, file: plan.gateway?.paths.redisCredentials as string };
    return VaultAgentConfig.render({ ...props, mountPath: plan.vault.mountPath, authPath: plan.vault.authPath, secrets, redisCredentials, webhooks: plan.gateway?.webhookSecrets });
  }

  private constructor() {}
}

function configProblems(props: VaultAgentConfigProps): string[] {
  const problems: string[] = [];
  if (!/^https?:\/\/[^/\s]+\/?$/.test(props.vaultAddress)) problems.push(`vaultAddress "${props.vaultAddress}" is not a Vault address; write e.g. https://vault.example.com:8200`);
  if ((props.appRole === undefined) === (props.kubernetes === undefined)) problems.push("give exactly one of appRole and kubernetes (how Vault Agent logs in)");
  if (props.keyDir === undefined) {
    if (props.secrets.length > 0) problems.push("keyDir is needed to render keys: the directory the gateway reads them from");
  } else if (!props.keyDir.startsWith("/") || props.keyDir.endsWith("/") || props.keyDir.includes("\n")) problems.push(`keyDir "${props.keyDir}" must be an absolute directory path without a trailing "/"`);
  const file = props.redisCredentials?.file;
  if (file !== undefined && (!file.startsWith("/") || file.endsWith("/"))) problems.push(`redisCredentials.file "${file}" must be an absolute file path`);
  if (!/^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*$/.test(props.authPath) || props.authPath.startsWith("auth/")) problems.push(`authPath "${props.authPath}" is not a plain mount path (e.g. approle or kubernetes, without auth/)`);
  const texts = { vaultAddress: props.vaultAddress, keyDir: props.keyDir, "appRole.roleIdFile": props.appRole?.roleIdFile, "appRole.secretIdFile": props.appRole?.secretIdFile, "kubernetes.role": props.kubernetes?.role, "kubernetes.tokenPath": props.kubernetes?.tokenPath, "redisCredentials.file": props.redisCredentials?.file };
  for (const [name, text] of Object.entries(texts)) {
    // eslint-disable-next-line no-control-regex
    if (text !== undefined && /\$\{|%\{|[\u0000-\u001f]/.test(text)) problems.push(`${name} "${text}" holds "\${", "%{" or a control character, which HCL parsers read differently; rename the path`);
  }
  const interval = props.staticSecretRenderInterval;
  if (interval !== undefined && !DURATION.test(interval)) problems.push(`staticSecretRenderInterval "${interval}" is not a duration; write e.g. 1m, 30s or 1h`);
  const seen = new Set<string>();
  for (const { tool } of props.secrets) {
    if (!/^[a-z][a-z0-9_-]*$/.test(tool)) problems.push(`tool "${tool}" cannot name a key file; tool names are lower-case letters, digits, _ and -`);
    if (seen.has(tool)) problems.push(`tool "${tool}" is listed twice; list each tool once`);
    seen.add(tool);
  }
  return problems;
}

function loginMethod(props: VaultAgentConfigProps): string[] {
  const mount = `  mount_path = ${hclString(`auth/${props.authPath}`)}`;
  if (props.appRole !== undefined) {
    return [
      '  method "approle" {',
      `  ${mount}`,
      "    config = {",
      `      role_id_file_path = ${hclString(props.appRole.roleIdFile)}`,
      `      secret_id_file_path = ${hclString(props.appRole.secretIdFile)}`,
      `      remove_secret_id_file_after_reading = ${props.appRole.removeSecretIdFileAfterReading ?? false}`,
      "    }",
      "  }",
    ];
  }
  const kubernetes = props.kubernetes as VaultAgentKubernetesLogin;
  return [
    '  method "kubernetes" {',
    `  ${mount}`,
    "    config = {",
    `      role = ${hclString(kubernetes.role)}`,
    `      token_path = ${hclString(kubernetes.tokenPath ?? SERVICE_ACCOUNT_TOKEN)}`,
    "    }",
    "  }",
  ];
}

/**
 * An HCL string literal. JSON's escapes (`\"`, `\\`, `\uXXXX`) mean the same in HCL 1, which Vault
 * parses its config with, and in HCL 2; `${` and `%{` do not (HCL 2 interpolates them, HCL 1 keeps
 * them), so `configProblems` refuses them instead of escaping.
 */
function hclString(value: string): string {
  return JSON.stringify(value);
}
