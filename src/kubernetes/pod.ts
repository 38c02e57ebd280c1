import { createHash } from "node:crypto";
import type {
  DeploymentV1SpecTemplateSpecContainerSecurityContext,
  DeploymentV1SpecTemplateSpecSecurityContext,
} from "@cdktf/provider-kubernetes/lib/deployment-v1";

/** Pod template annotations whose change rolls the pods (a Deployment rolls on any template change). */
export const CHECKSUM_ANNOTATIONS = {
  /** sha256 of the proxy's squid.conf: the ConfigMap is mounted by subPath, which never updates in place. */
  squidConf: "rapidclaw.dev/squid-conf-sha256",
  /** sha256 of a role's files (profile documents), so agents reload them. */
  agentFiles: "rapidclaw.dev/files-sha256",
  /** sha256 over the tool gateway's firewall file, Vault Agent config and bundle: the gateway reads them once, at start. */
  gatewayConfig: "rapidclaw.dev/gateway-config-sha256",
  /** sha256 over proxy-events' firewall file and bundle (the proxy pods' sidecar), read once at start. */
  proxyEvents: "rapidclaw.dev/proxy-events-sha256",
} as const;

/**
 * Name of the port of the role in `slot` on a container and its Service (the proxy's, the
 * gateway's). Port names are IANA service names (at most 15 characters, lower case, digits and
 * single `-`, at least one letter), too short for role names; the slot is the port offset
 * (`proxy.port + slot`, `gateway.port + slot`), so a role's port name never changes either.
 */
export function rolePortName(slot: number): string {
  return `role-${slot}`;
}

/** Hex sha256 of a text. */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Pod security context: a fixed non-root user and group, and the runtime's default seccomp profile. */
export function hardenedPodSecurityContext(uid: number): DeploymentV1SpecTemplateSpecSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: String(uid),
    runAsGroup: String(uid),
    // Volumes (and the projected Vault token) become readable by the pod's group.
    fsGroup: String(uid),
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container security context: no privilege escalation, no capabilities, root file system read-only unless `writableRoot`. */
export function hardenedContainerSecurityContext(writableRoot = false): DeploymentV1SpecTemplateSpecContainerSecurityContext {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    runAsNonRoot: true,
    readOnlyRootFilesystem: !writableRoot,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** An emptyDir volume mounted writable at a path: the only writable places of a read-only container. */
export interface ScratchDirectory {
  /** Volume name, a DNS label. */
  readonly name: string;
  /** Mount path in the container. */
  readonly path: string;
  /** Size limit, a Kubernetes quantity such as `64Mi`. */
  readonly sizeLimit: string;
}

/** Volumes and mounts of scratch directories, in the order given. */
export function scratchVolumes(dirs: ReadonlyArray<ScratchDirectory>) {
  return {
    volumes: dirs.map((d) => ({ name: d.name, emptyDir: { sizeLimit: d.sizeLimit } })),
    mounts: dirs.map((d) => ({ name: d.name, mountPath: d.path })),
  };
}
