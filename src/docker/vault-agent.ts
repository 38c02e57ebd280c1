import { posix } from "node:path";
import type { Container, ContainerUpload } from "@cdktf/provider-docker/lib/container";
import type { Volume } from "@cdktf/provider-docker/lib/volume";
import { ApproleAuthBackendRole } from "@cdktf/provider-vault/lib/approle-auth-backend-role";
import type { Construct } from "constructs";
import { DEFAULTS } from "../model/defaults";
import { dockerLabels, workloadLabels } from "../terraform/labels";
import { hardened } from "./hardening";
import { dockerUploads } from "./uploads";
import { dockerClasses } from "./provider-classes";

/**
 * Where an evaluator's Vault Agent finds its AppRole credentials: the role ID uploaded with its
 * config, the SecretID in a volume of its own that the operator fills (outside Terraform, so that
 * no credential is in the state).
 */
export const VAULT_AGENT_APPROLE_FILES = { roleIdFile: "/etc/rapidclaw/role-id", secretIdFile: "/run/rapidclaw/approle/secret-id" } as const;

/** A memory-backed volume the Vault Agent renders into and its evaluator mounts read-only. */
export interface RenderedVolume {
  /** What it holds (`keys`, `webhooks`): its construct id, and the suffix of its name and component label. */
  readonly id: string;
  /** Where both the Vault Agent and the evaluator mount it. */
  readonly target: string;
}

/** Properties of `dockerVaultAgent`. */
export interface DockerVaultAgentProps {
  /** The evaluator's name: its AppRole login role, `<name>-approle` (its SecretID volume), `<name>-<id>` (each rendered volume). */
  readonly loginName: string;
  /** Name of the Vault Agent container. */
  readonly containerName: string;
  /** The evaluator's `uid:gid`: the Vault Agent runs as it, and the volumes belong to it (files 0400). */
  readonly user: string;
  /** Path of the AppRole backend (a reference when created in the stack). */
  readonly authPath: string;
  /** The policy the login carries: read on exactly what the agent renders. */
  readonly policyName: string;
  /** Token TTL of the login. */
  readonly tokenTtlSeconds: number;
  /** The Vault network (a reference) and its subnet, the only source the login is accepted from. */
  readonly network: { readonly name: string; readonly subnet: string };
  /** The Vault Agent's address on it. */
  readonly address: string;
  /** The configuration (AppRole auto-auth from `VAULT_AGENT_APPROLE_FILES`) and where it is uploaded. */
  readonly config: { readonly path: string; readonly content: string };
  /** The volumes it renders into. */
  readonly volumes: ReadonlyArray<RenderedVolume>;
  /** The firewall's name, for labels. */
  readonly firewall: string;
  /** The evaluator's component label (`tool-gateway`): its Vault Agent is `<component>-vault-agent`, its volumes `<component>-<id>`. */
  readonly component: string;
}

/** What `dockerVaultAgent` made. */
export interface DockerVaultAgent {
  readonly container: Container;
  readonly appRole: ApproleAuthBackendRole;
  /** `<loginName>-approle`: write a SecretID into its `secret-id` file. */
  readonly secretIdVolume: Volume;
  /** The rendered volumes, by construct id, each with its read-only mount for the evaluator. */
  readonly volumes: { [id: string]: { readonly volume: Volume; readonly mount: { source: string; target: string; type: string; readOnly: boolean } } };
}

/**
 * An evaluator's Vault Agent on Docker (the tool gateway's, proxy-events'): memory-backed volumes
 * owned by the evaluator's uid that it renders into, an AppRole login carrying exactly the given
 * policy and accepted only from the Vault network (which holds the evaluators' Vault Agents and
 * Vault alone: no agent can use it), a SecretID volume kept across restarts, and the hardened
 * Vault Agent container. Made in `scope` itself, so that its resources keep their addresses.
 */
export function dockerVaultAgent(scope: Construct, props: DockerVaultAgentProps): DockerVaultAgent {
  const [uid, gid] = props.user.split(":");
  const volumes = Object.fromEntries(
    props.volumes.map((rendered) => {
      // tmpfs: the secrets live in memory only, never on the host's disk; mode and owner let the evaluator's uid alone in.
      const volume = new dockerClasses.Volume(scope, rendered.id, {
        name: `${props.loginName}-${rendered.id}`,
        driver: "local",
        driverOpts: { type: "tmpfs", device: "tmpfs", o: `size=1m,mode=0700,uid=${uid},gid=${gid}` },
        labels: dockerLabels(workloadLabels(props.firewall, `${props.component}-${rendered.id}`)),
      });
      return [rendered.id, { volume, target: rendered.target, mount: { source: volume.name, target: rendered.target, type: "volume", readOnly: true } }];
    }),
  );
  const appRole = new ApproleAuthBackendRole(scope, "login", {
    backend: props.authPath,
    roleName: props.loginName,
    tokenPolicies: [props.policyName],
    tokenNoDefaultPolicy: true,
    tokenTtl: props.tokenTtlSeconds,
    tokenMaxTtl: props.tokenTtlSeconds,
    // Only from the Vault network, which holds the evaluators' Vault Agents and Vault alone: no agent can use them.
    secretIdBoundCidrs: [props.network.subnet],
    tokenBoundCidrs: [props.network.subnet],
  });
  // Kept across restarts (a plain local volume): Vault Agent logs in again with it whenever its token expires.
  const secretIdVolume = new dockerClasses.Volume(scope, "approle", { name: `${props.loginName}-approle`, labels: dockerLabels(workloadLabels(props.firewall, `${props.component}-approle`)) });
  const image = new dockerClasses.Image(scope, "vault-agent-image", { name: DEFAULTS.gateway.vaultAgentImage, keepLocally: true });
  // A Terraform reference, not a value; the role ID alone logs nobody in.
  const roleId: ContainerUpload = { file: VAULT_AGENT_APPROLE_FILES.roleIdFile, content: appRole.roleId, permissions: "0444" };
  const uploads = dockerUploads([{ path: props.config.path, content: props.config.content }], "0444", true);
  const container = new dockerClasses.Container(scope, "vault-agent", {
    name: props.containerName,
    image: image.imageId,
    // The evaluator's uid: Vault Agent writes each file 0400, which the evaluator must read.
    user: props.user,
    entrypoint: ["vault", "agent", `-config=${props.config.path}`],
    networksAdvanced: [{ name: props.network.name, ipv4Address: props.address }],
    ...hardened(DEFAULTS.gateway.limits.vaultAgent),
    upload: [...(uploads.upload ?? []), roleId],
    mounts: [
      ...(uploads.mounts ?? []),
      ...Object.values(volumes).map(({ volume, target }) => ({ source: volume.name, target, type: "volume" })),
      { source: secretIdVolume.name, target: posix.dirname(VAULT_AGENT_APPROLE_FILES.secretIdFile), type: "volume", readOnly: true },
    ],
    tmpfs: { "/tmp": "rw,noexec,nosuid,size=1m" },
    labels: dockerLabels(workloadLabels(props.firewall, `${props.component}-vault-agent`)),
  });
  return { container, appRole, secretIdVolume, volumes: Object.fromEntries(Object.entries(volumes).map(([id, { volume, mount }]) => [id, { volume, mount }])) };
}
