/**
 * The tool gateway's firewall file (`/etc/rapidclaw/firewall.json`, a Docker upload or a key of
 * its Kubernetes ConfigMap): the description the gateway enforces, and its listeners with the
 * role each one gives its callers.
 */
import { parseCidr, ipv4InNetwork, parseIpv4 } from "../model/addresses";
import { DEFAULTS } from "../model/defaults";
import { byString } from "../model/order";
import type { FirewallSpecProps } from "../model/types";
import { LABELS } from "../plan/plan";
import { labelsOf, type ShippedFile, type TerraformDocument } from "./terraform-document";

/** A listener of the gateway. */
export interface GatewayFileListener {
  readonly port: number;
  /** Undefined: every address. */
  readonly address?: string;
  /** The role of every caller; undefined: by source network. */
  readonly role?: string;
  readonly rule: string;
}

/** The gateway's firewall file as deployed. */
export interface GatewayFile {
  readonly props: FirewallSpecProps;
  readonly listeners: GatewayFileListener[];
  /** Where the file is. */
  readonly where: string;
  /** The role of a caller from `callerSubnet` on `listener`, if the file gives one. */
  identity(listener: GatewayFileListener, callerSubnet: string | undefined): string | undefined;
}

/** The firewall file shipped to the gateway, if the stack deploys one. */
export function readGatewayFile(doc: TerraformDocument): GatewayFile | undefined {
  const file = doc.files().find((f: ShippedFile) => /(^|\/)firewall\.json$/.test(f.path) && isGatewayResource(f));
  if (file === undefined) return undefined;
  const props = JSON.parse(file.content) as FirewallSpecProps;
  const roles = Object.keys(props.roles ?? {}).sort(byString);
  const firstPort = props.gateway?.port ?? DEFAULTS.gateway.port;
  const listeners: GatewayFileListener[] = props.gateway?.listeners
    ? props.gateway.listeners.map((l, i) => ({ port: l.port, address: l.address, role: l.role, rule: `gateway.listeners[${i}] ${l.address ?? "*"}:${l.port}${l.role ? ` role ${l.role}` : ""}` }))
    : roles.map((role, i) => ({ port: firstPort + i, role, rule: `default listener :${firstPort + i} role ${role}` }));
  const sources = (props.gateway?.sourceNetworks ?? []).flatMap((s) => {
    const network = parseCidr(s.cidr);
    return typeof network === "string" ? [] : [{ network, role: s.role }];
  });
  return {
    props,
    listeners,
    where: file.where,
    identity: (listener, callerSubnet) => {
      if (listener.role !== undefined) return listener.role;
      const base = callerSubnet === undefined ? undefined : parseIpv4(callerSubnet.split("/")[0]);
      return base === undefined ? undefined : sources.find((s) => s.network.version === 4 && ipv4InNetwork(base, s.network))?.role;
    },
  };
}

function isGatewayResource(file: ShippedFile): boolean {
  const body = file.resource.body;
  return labelsOf(file.resource.type === "docker_container" ? body.labels : body.metadata?.labels)[LABELS.component] === "tool-gateway";
}
