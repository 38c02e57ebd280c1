import { createHash } from "node:crypto";
import { Password } from "@cdktf/provider-random/lib/password";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { Rotating } from "@cdktf/provider-time/lib/rotating";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { AuthBackend } from "@cdktf/provider-vault/lib/auth-backend";
import { GenericEndpoint } from "@cdktf/provider-vault/lib/generic-endpoint";
import { KvSecretBackendV2 } from "@cdktf/provider-vault/lib/kv-secret-backend-v2";
import { KubernetesAuthBackendConfig } from "@cdktf/provider-vault/lib/kubernetes-auth-backend-config";
import { KvSecretV2 } from "@cdktf/provider-vault/lib/kv-secret-v2";
import { Mount } from "@cdktf/provider-vault/lib/mount";
import { Aspects, Fn, ref, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import type { FirewallSpec } from "../plan/firewall-spec";
import type { PlannedTool } from "../plan/plan";
import { requireTerraformAtLeast } from "../render/terraform-required-version";
import { AgentPlatform, KeyMode } from "../model/types";
import { missingProviders } from "../terraform/required-providers";

export interface ScopedAgentKeysProps {
  /** The firewall whose tool keys this mount holds. */
  readonly spec: FirewallSpec;
}

/** Versions kept per secret: readers may still hold the previous key during a rotation. */
const VERSIONS_KEPT = 2;

/** Ephemeral resources and write-only arguments need Terraform (or OpenTofu) 1.11. */
const EPHEMERAL_TERRAFORM_VERSION = "1.11.0";

/** The tool configuration stored beside each key, in snake_case field names (`max_calls`, `window_sec`, `max_rpm`). */
export function toolConfig(tool: PlannedTool): Record<string, unknown> {
  return {
    tool: tool.name,
    permissions: tool.permissions,
    ...(tool.rateLimit ? { max_calls: tool.rateLimit.maxCalls, window_sec: tool.rateLimit.windowSec, max_rpm: tool.rateLimit.maxRpm } : {}),
  };
}

/**
 * Layer 2, scoped keys: a Vault KV v2 mount with one secret per tool that has a `key`, holding the
 * key and the tool's config, rotated every `rotationHours`. No key value is ever in the
 * synthesized JSON; with `KeyMode.EPHEMERAL` (the default) it is in neither plan nor state.
 */
export class ScopedAgentKeys extends Construct {
  /** The KV v2 mount. */
  public readonly mount: Mount;
  /** Backend settings of the mount (versions kept, check-and-set). */
  public readonly backendSettings: KvSecretBackendV2;
  /** Path of the mount. */
  public readonly mountPath: string;
  /** How key values reach Vault. */
  public readonly keyMode: KeyMode;
  /** Secrets by tool name (ephemeral and managed modes). */
  public readonly secrets: { [toolName: string]: KvSecretV2 } = {};
  /** Secret metadata holding the tool config, by tool name (external mode). */
  public readonly configMetadata: { [toolName: string]: GenericEndpoint } = {};
  /** Rotation schedules by tool name. */
  public readonly rotations: { [toolName: string]: Rotating } = {};
  /** Managed passwords by tool name (managed mode only; their values are in state). */
  public readonly passwords: { [toolName: string]: Password } = {};
  /** Path of the auth backend agents log in with (Kubernetes auth or AppRole). */
  public readonly authPath: string;
  /** The auth backend, when this construct creates it (`vault.createAuthBackend`, the default). */
  public readonly authBackend?: AuthBackend;
  /** Kubernetes: the backend's configuration, when created here. */
  public readonly kubernetesAuthConfig?: KubernetesAuthBackendConfig;
  private readonly toolScope: Construct;

  constructor(scope: Construct, id: string, props: ScopedAgentKeysProps) {
    super(scope, id);
    const plan = props.spec.plan;
    this.mountPath = plan.vault.mountPath;
    this.keyMode = plan.vault.keyMode;
    this.mount = new Mount(this, "mount", {
      path: this.mountPath,
      type: "kv",
      options: { version: "2" },
      description: "Rapid Claw scoped agent keys, one secret per tool",
    });
    this.backendSettings = new KvSecretBackendV2(this, "settings", {
      mount: this.mount.path,
      maxVersions: VERSIONS_KEPT,
      casRequired: false,
    });
    this.authPath = plan.vault.authPath;
    if (plan.vault.createAuthBackend) {
      const kubernetes = plan.platform === AgentPlatform.KUBERNETES;
      this.authBackend = new AuthBackend(this, "auth", {
        type: kubernetes ? "kubernetes" : "approle",
        path: this.authPath,
        description: "Rapid Claw agent logins",
      });
      if (kubernetes) {
        this.kubernetesAuthConfig = new KubernetesAuthBackendConfig(this, "auth-config", {
          backend: this.authBackend.path,
          kubernetesHost: plan.vault.kubernetesHost,
        });
      }
    }
    this.toolScope = new Construct(this, "tools");
    const stack = TerraformStack.of(this);
    if (this.keyMode === KeyMode.EPHEMERAL) {
      // At synthesis, once the user's own constraint is in place (set before or after this
      // construct), so it is narrowed, never replaced.
      Aspects.of(this).add({
        visit: (node) => {
          if (node === this) requireTerraformVersion(stack);
        },
      });
    }
    for (const tool of plan.tools) {
      if (tool.key) this.addToolKey(stack, tool, tool.key);
    }
    const needs = this.keyMode === KeyMode.EXTERNAL ? [TimeProvider] : [TimeProvider, RandomProvider];
    this.node.addValidation({ validate: () => missingProviders("ScopedAgentKeys", stack, needs) });
  }

  private addToolKey(stack: TerraformStack, tool: PlannedTool, key: NonNullable<PlannedTool["key"]>): void {
    const config = toolConfig(tool);
    // Config changes replace the rotation, which bumps the write-only version: the new config
    // reaches Vault, and the key rotates with it.
    const configHash = createHash("sha256").update(JSON.stringify(config)).digest("hex");
    // One scope per tool: tool names can never collide with the mount's or the auth backend's ids.
    const scope = new Construct(this.toolScope, tool.resourceName);
    const rotation = new Rotating(scope, "rotation", {
      rotationHours: key.rotationHours,
      triggers: { config_sha256: configHash },
    });
    this.rotations[tool.name] = rotation;

    if (this.keyMode === KeyMode.EXTERNAL) {
      // The operator owns the secret's data; Terraform writes only its metadata.
      this.configMetadata[tool.name] = new GenericEndpoint(scope, "config", {
        path: `${this.mountPath}/metadata/${key.secretName}`,
        dataJson: Fn.jsonencode({ custom_metadata: Object.fromEntries(Object.entries(config).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v)])), max_versions: VERSIONS_KEPT }),
        disableRead: true,
        disableDelete: true,
        dependsOn: [this.backendSettings],
      });
      return;
    }

    let dataJson: string | undefined;
    let dataJsonWo: string | undefined;
    let version: number | undefined;
    if (this.keyMode === KeyMode.EPHEMERAL) {
      // cdktf 0.21 has no ephemeral resources: add the block at the stack root and reference it.
      const name = `rapidclaw_key_${tool.resourceName.replace(/-/g, "_")}_${this.node.addr.slice(0, 8)}`;
      stack.addOverride(`ephemeral.random_password.${name}`, { length: key.length, special: false });
      dataJsonWo = Fn.jsonencode({ api_key: ref(`ephemeral.random_password.${name}.result`, stack), ...config });
      version = rotation.unix;
    } else {
      const password = new Password(scope, "key", {
        length: key.length,
        special: false,
        keepers: { rotation: rotation.id },
      });
      this.passwords[tool.name] = password;
      dataJson = Fn.jsonencode({ api_key: password.result, ...config });
    }
    this.secrets[tool.name] = new KvSecretV2(scope, "secret", {
      mount: this.mount.path,
      name: key.secretName,
      dataJson,
      dataJsonWo,
      dataJsonWoVersion: version,
      dependsOn: [this.backendSettings],
    });
  }
}

/** Adds Terraform 1.11 to the stack's `required_version`, keeping whatever the user set. */
function requireTerraformVersion(stack: TerraformStack): void {
  // cdktf exposes no getter for overrides; reading the field is the only way to see the
  // constraint the user set, so that it is merged rather than overwritten.
  const overrides = (stack as unknown as { rawOverrides?: { terraform?: { required_version?: unknown } } }).rawOverrides;
  const current = overrides?.terraform?.required_version;
  stack.addOverride("terraform.required_version", requireTerraformAtLeast(typeof current === "string" ? current : undefined, EPHEMERAL_TERRAFORM_VERSION));
}
