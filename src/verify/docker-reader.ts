/**
 * Docker: what each role's agents reach, from the containers' `networks_advanced` (overrides
 * included) and the networks' `internal` flag. On an internal network a container reaches every
 * other container of that network (and nothing else); on any other, the internet too.
 */
import { LABELS } from "../plan/plan";
import type { GatewayFile } from "./gateway-file-reader";
import type { RoleReach } from "./role-reach";
import type { SquidListener } from "./squid-conf-reader";
import { blocks, labelsOf, type TerraformDocument, type TerraformResource } from "./terraform-document";

interface DockerNetwork {
  readonly name: string;
  readonly internal: boolean;
  readonly subnet?: string;
  /** Role label of the network, if any. */
  readonly role?: string;
  readonly address: string;
}

interface Attachment {
  readonly network: DockerNetwork;
  readonly address?: string;
}

interface DockerContainer {
  readonly resource: TerraformResource;
  readonly name: string;
  readonly component?: string;
  readonly role?: string;
  readonly attachments: Attachment[];
  readonly networkMode?: string;
}

function networksOf(doc: TerraformDocument): DockerNetwork[] {
  return doc.resources("docker_network").map((r) => ({
    name: String(r.body.name),
    internal: r.body.internal === true,
    subnet: blocks(r.body.ipam_config)[0]?.subnet,
    role: labelsOf(r.body.labels)[LABELS.role],
    address: r.address,
  }));
}

function containersOf(doc: TerraformDocument, networks: DockerNetwork[]): DockerContainer[] {
  const byAddress = new Map(networks.map((n) => [n.address, n]));
  const byName = new Map(networks.map((n) => [n.name, n]));
  return doc.resources("docker_container").map((resource) => {
    const labels = labelsOf(resource.body.labels);
    const attachments = blocks(resource.body.networks_advanced).map((a): Attachment => {
      const target = doc.referenced(a?.name);
      const network = (target && byAddress.get(target.address)) ?? byName.get(String(doc.resolve(a?.name)));
      // A network the document does not declare: nothing says it is internal.
      return { network: network ?? { name: String(a?.name), internal: false, address: `docker network ${String(a?.name)}` }, address: a?.ipv4_address };
    });
    return { resource, name: String(resource.body.name), component: labels[LABELS.component], role: labels[LABELS.role], attachments, networkMode: resource.body.network_mode };
  });
}

/** Listeners a client reaches at `address` (a listener on every address is reached at any). */
const listenersAt = <T extends { readonly address?: string }>(listeners: ReadonlyArray<T>, address: string | undefined) =>
  listeners.filter((l) => l.address === undefined || l.address === "0.0.0.0" || l.address === address);

/** What the agents of each role (by resource name) reach. */
export function readDockerReach(doc: TerraformDocument, roleResourceNames: ReadonlyArray<string>, squidListeners: ReadonlyArray<SquidListener>, gateway: GatewayFile | undefined): Map<string, RoleReach> {
  const networks = networksOf(doc);
  const containers = containersOf(doc, networks);
  const reach = new Map<string, RoleReach>();
  for (const role of roleResourceNames) {
    const agents = containers.filter((c) => c.component === "agent" && c.role === role);
    // A role without agents: what an agent put on its network would reach.
    const clients: { self?: TerraformResource; artifact: string; attachments: Attachment[]; networkMode?: string }[] = agents.length > 0
      ? agents.map((a) => ({ self: a.resource, artifact: a.resource.address, attachments: a.attachments, networkMode: a.networkMode }))
      : networks.filter((n) => n.role === role).map((n) => ({ artifact: n.address, attachments: [{ network: n }] }));
    const result: RoleReach = { proxyListeners: [], gatewayListeners: [], direct: [], peers: [] };
    for (const client of clients) {
      const mode = client.networkMode;
      if (mode === "host" || mode?.startsWith("container:") || (client.attachments.length === 0 && mode !== "none")) {
        result.direct.push({ item: `the host's or the default bridge's network (network_mode ${mode ?? "bridge"})`, artifact: client.artifact, rule: `network_mode = "${mode ?? "bridge"}", no internal network` });
      }
      for (const { network } of client.attachments) {
        const on = `${client.artifact} on ${network.name}`;
        if (!network.internal) result.direct.push({ item: `the internet (network ${network.name} is not internal)`, artifact: client.artifact, rule: `networks_advanced ${network.name} (${network.address})` });
        for (const other of containers) {
          if (other.resource === client.self) continue;
          const there = other.attachments.filter((a) => a.network === network);
          for (const attachment of there) {
            if (other.component === "egress-proxy") {
              for (const listener of listenersAt(squidListeners, attachment.address)) result.proxyListeners.push({ listener, via: `${on} → ${attachment.address ?? "any address"}:${listener.port}` });
            } else if (other.component === "tool-gateway" && gateway !== undefined) {
              for (const listener of listenersAt(gateway.listeners, attachment.address)) {
                result.gatewayListeners.push({ identity: gateway.identity(listener, network.subnet), via: `${on} → ${attachment.address ?? "any address"}:${listener.port}`, artifact: gateway.where, rule: listener.rule });
              }
            } else if (!(other.component === "agent" && other.role === role)) {
              result.peers.push({ item: `container ${other.name}${other.component ? ` (${other.component}${other.role ? ` ${other.role}` : ""})` : ""}`, artifact: client.artifact, rule: `shares network ${network.name} (${network.address})` });
            }
          }
        }
      }
    }
    reach.set(role, result);
  }
  return reach;
}
