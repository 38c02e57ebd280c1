import { gatewayConfigFromSpec } from "../gateway/config";
import { formatPath, HostFirewallError, type SpecProblem } from "../model/errors";
import type { HostFirewallEndpoint, HostFirewallReservedEndpoint } from "../model/host-firewall-types";
import { validateFirewallSpec } from "../model/validate";

/** Who runs what on a bare VM that hosts the tool gateway next to the agents. */
export interface VmGatewayUsersProps {
  /** The agent users (names or numeric uids) of each role of the firewall description. */
  readonly roleUsers: { [role: string]: string[] };
  /**
   * The user the gateway runs as (its systemd unit's `User=`).
   * @default "rapidclaw-gateway"
   */
  readonly gatewayUser?: string;
  /**
   * The Redis the gateway uses, reserved for the gateway's user; omit it when Redis runs elsewhere.
   * @default - no Redis endpoint reserved
   */
  readonly redis?: HostFirewallEndpoint;
  /**
   * The egress proxy's listener for the gateway (its upstreams' allowlist), reserved for the
   * gateway's user: the gateway leaves through the proxy, as on Docker.
   * @default - no proxy endpoint reserved
   */
  readonly upstreamProxy?: HostFirewallEndpoint;
  /**
   * Address of the listeners that name none: the gateway's `--listen-host`.
   * @default "127.0.0.1"
   */
  readonly listenHost?: string;
}

/** Defaults of `VmGatewayUsersProps`. */
export const VM_GATEWAY_DEFAULTS = { gatewayUser: "rapidclaw-gateway", listenHost: "127.0.0.1" } as const;

/**
 * The host firewall's reserved endpoints for a gateway on the VM: each role's listener for that
 * role's agent users only (the gateway tells a role by the port it reached, so another role's
 * user must never reach it), and Redis and the gateway's proxy listener for the gateway's own user. Throws HostFirewallError when
 * a listener has no role or a role has no users.
 */
export function vmGatewayReservations(spec: unknown, users: VmGatewayUsersProps): HostFirewallReservedEndpoint[] {
  const validated = validateFirewallSpec(spec);
  const config = gatewayConfigFromSpec(validated);
  const problems: SpecProblem[] = [];
  const add = (path: ReadonlyArray<PropertyKey>, message: string) => problems.push({ path: formatPath(path), message });
  const roles = Object.keys(validated.roles);
  for (const role of Object.keys(users.roleUsers)) {
    if (!roles.includes(role)) add(["roleUsers", role], `"${role}" is not a role of the firewall; the roles are ${roles.join(", ")}`);
  }
  const reserved = config.listeners.flatMap((listener, i): HostFirewallReservedEndpoint[] => {
    if (listener.role === undefined) {
      add(["gateway", "listeners", i, "role"], "on a VM a listener must name its role: agents share the host's addresses, so the port is all that tells roles apart");
      return [];
    }
    const roleUsers = users.roleUsers[listener.role] ?? [];
    if (roleUsers.length === 0) add(["roleUsers", listener.role], `list the agent users of role "${listener.role}"; its gateway port would otherwise be reserved for nobody`);
    return [{ address: listener.address ?? users.listenHost ?? VM_GATEWAY_DEFAULTS.listenHost, port: listener.port, users: roleUsers }];
  });
  if (problems.length > 0) throw new HostFirewallError(problems);
  const gatewayUser = users.gatewayUser ?? VM_GATEWAY_DEFAULTS.gatewayUser;
  const gatewayOnly = [users.redis, users.upstreamProxy].flatMap((endpoint) => (endpoint === undefined ? [] : [{ address: endpoint.address, port: endpoint.port, users: [gatewayUser] }]));
  return [...reserved, ...gatewayOnly];
}
