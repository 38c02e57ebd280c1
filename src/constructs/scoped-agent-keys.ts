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
import { Policy } from "@cdktf/provider-vault/lib/policy";
import { Aspects, Fn, ref, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import type { FirewallPlan, PlannedTool } from "../plan/plan";
import { requireTerraformAtLeast } from "../render/terraform-required-version";
import { renderVaultPolicy, toolSecrets, vaultSecretDataPath } from "../render/vault-policy";
import { FirewallSpecError, raisedBy, type SpecProblem } from "../model/errors";
import { AgentPlatform, KeyMode } from "../model/types";
import { byString } from "../model/order";
import { resourceName } from "../model/names";
import { missingProviders } from "../terraform/required-providers";
import { keyGrantProblems } from "./key-grant-problems";
import type { IKeyGrantee, KeyGrant, KeyGrantOptions } from "./key-grantee";
import type { IKeyMount } from "./key-mount";
import type { IVaultAuthMount } from "./vault-auth-mount";
import { pathOfChild } from "./construct-path";

/** Properties of `ScopedAgentKeys`. */
export interface ScopedAgentKeysProps {
  /** The firewall whose tool keys this mount holds. */
  readonly spec: FirewallSpec;
  /**
   * An existing KV v2 mount to write the keys into (`KeyMount.fromMountPath`), at the firewall's
   * `vault.mountPath`.
   * @default - a KV v2 mount is created at `vault.mountPath`
   */
  readonly keyMount?: IKeyMount;
  /**
   * An existing auth backend agents log in with (`VaultAuthMount.fromAuthPath`), at the
   * firewall's `vault.authPath`.
   * @default - reused when `vault.existingAuthMount` is set, else created at `vault.authPath`
   */
  readonly authMount?: IVaultAuthMount;
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
 * `grantRead` gives a Vault identity `read` on exactly the keys of the tools it names.
 * Invalid props throw `FirewallSpecError` before anything is added.
 */
export class ScopedAgentKeys extends Construct implements IKeyMount, IVaultAuthMount {
  /** The KV v2 mount, when this construct creates it (no `keyMount` given). */
  public readonly mount?: Mount;
  /** Backend settings of the mount (versions kept, check-and-set). */
  public readonly backendSettings: KvSecretBackendV2;
  /** Path of the mount, such as `agent-keys`: the literal path policies grant under. */
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
  /**
   * Path of the auth backend agents log in with (Kubernetes auth or AppRole); a reference to the
   * backend when this construct creates it, so logins are created after it.
   */
  public readonly authPath: string;
  /** The auth backend, when this construct creates it (no `authMount`, no `vault.existingAuthMount`). */
  public readonly authBackend?: AuthBackend;
  /** Kubernetes: the backend's configuration, when created here. */
  public readonly kubernetesAuthConfig?: KubernetesAuthBackendConfig;
  private readonly plan: FirewallPlan;
  /** The mount as resources refer to it: a reference when created here. */
  private readonly mountReference: string;
  private readonly toolScope: Construct;
  private grantScope?: Construct;
  /** Names of the grantees granted so far: one policy per name. */
  private readonly granteeNames = new Set<string>();

  constructor(scope: Construct, id: string, props: ScopedAgentKeysProps) {
    const plan = planOf(props.spec);
    const problems = importProblems(plan, props);
    if (problems.length > 0) throw new FirewallSpecError(raisedBy(pathOfChild(scope, id), problems));
    super(scope, id);
    this.plan = plan;
    this.mountPath = plan.vault.mountPath;
    this.keyMode = plan.vault.keyMode;
    if (props.keyMount === undefined) {
      this.mount = new Mount(this, "mount", {
        path: this.mountPath,
        type: "kv",
        options: { version: "2" },
        description: "Rapid Claw scoped agent keys, one secret per tool",
      });
    }
    this.mountReference = this.mount?.path ?? this.mountPath;
    this.backendSettings = new KvSecretBackendV2(this, "settings", {
      mount: this.mountReference,
      maxVersions: VERSIONS_KEPT,
      casRequired: false,
    });
    if (props.authMount === undefined && !plan.vault.existingAuthMount) {
      const kubernetes = plan.platform === AgentPlatform.KUBERNETES;
      this.authBackend = new AuthBackend(this, "auth", {
        type: kubernetes ? "kubernetes" : "approle",
        path: plan.vault.authPath,
        description: "Rapid Claw agent logins",
      });
      if (kubernetes) {
        this.kubernetesAuthConfig = new KubernetesAuthBackendConfig(this, "auth-config", {
          backend: this.authBackend.path,
          kubernetesHost: plan.vault.kubernetesHost,
        });
      }
    }
    this.authPath = this.authBackend?.path ?? props.authMount?.authPath ?? plan.vault.authPath;
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

  /**
   * Gives `grantee` `read` on exactly the keys of `tools` (`<mount>/data/<secret>` of each, no
   * wildcard, no other capability): a Vault policy named after the grantee. The policy goes into
   * the grantee's scope when it is a construct (one grant per such grantee: list every tool in
   * one call), else into this construct's. `options.secrets` adds further secrets of the mount
   * by name. Throws `FirewallSpecError` naming each unknown tool, tool without a key, or bad
   * secret name.
   */
  public grantRead(grantee: IKeyGrantee, tools: string[], options: KeyGrantOptions = {}): KeyGrant {
    const extra = options.secrets ?? [];
    const problems = keyGrantProblems(this.plan, grantee.keyGranteeName, tools, extra);
    if (this.granteeNames.has(grantee.keyGranteeName)) {
      problems.push({ path: "grantee.keyGranteeName", message: `"${grantee.keyGranteeName}" already holds a grant of these keys; grant all its tools in one grantRead call` });
    }
    if (problems.length > 0) throw new FirewallSpecError(raisedBy(this.node.path, problems), `${this.node.id}.grantRead`);
    const secrets = toolSecrets(this.plan, [...new Set(tools)].sort(byString));
    const policyDocument = renderVaultPolicy(this.mountPath, [...secrets.map((secret) => secret.secretName), ...extra]);
    const policy = new Policy(...this.grantPlace(grantee), { name: grantee.keyGranteeName, policy: policyDocument });
    this.granteeNames.add(grantee.keyGranteeName);
    return {
      grantee,
      policy,
      policyName: grantee.keyGranteeName,
      policyDocument,
      tools: secrets.map((secret) => secret.tool),
      secretPaths: Object.fromEntries(secrets.map((secret) => [secret.tool, vaultSecretDataPath(this.mountPath, secret.secretName)])),
    };
  }

  /** Scope and id of a grant's policy: inside the grantee when it is a construct, else under `grants`. */
  private grantPlace(grantee: IKeyGrantee): [Construct, string] {
    if (Construct.isConstruct(grantee)) {
      if (grantee.node.tryFindChild("policy") !== undefined) {
        throw new Error(`${grantee.node.path} already holds a key grant; grant all its tools in one grantRead call`);
      }
      return [grantee as Construct, "policy"];
    }
    this.grantScope ??= new Construct(this, "grants");
    return [this.grantScope, resourceName(grantee.keyGranteeName)];
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
      mount: this.mountReference,
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

/** Imports that do not match the firewall: its gateway, agents and policies use the spec's paths. */
function importProblems(plan: FirewallPlan, props: ScopedAgentKeysProps): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const keyMountPath = props.keyMount?.mountPath;
  if (keyMountPath !== undefined && keyMountPath !== plan.vault.mountPath) {
    problems.push({
      path: "keyMount",
      message: Token.isUnresolved(keyMountPath)
        ? "keyMount's path must be literal text: policies name it; import the mount with KeyMount.fromMountPath and its path"
        : `keyMount is mounted at "${keyMountPath}" and the firewall's vault.mountPath is "${plan.vault.mountPath}"; set vault.mountPath: ${keyMountPath}`,
    });
  }
  const authPath = props.authMount?.authPath;
  if (authPath !== undefined && !Token.isUnresolved(authPath) && authPath !== plan.vault.authPath) {
    problems.push({ path: "authMount", message: `authMount is mounted at "${authPath}" and the firewall's vault.authPath is "${plan.vault.authPath}"; set vault.authPath: ${authPath}` });
  }
  return problems;
}
