import { BlockList, isIPv6 } from "node:net";
import { parseCidr, type Network } from "../model/addresses";
import type { GatewayConfig, GatewayListener } from "./config";

/**
 * Tells a caller's role from the network alone: the listener it reached, or for listeners without
 * a role, the network its source address is in. Nothing the caller sends is consulted.
 */
export class CallerIdentity {
  private readonly networks: ReadonlyArray<{ readonly list: BlockList; readonly role: string }>;

  constructor(config: Pick<GatewayConfig, "sourceNetworks">) {
    this.networks = config.sourceNetworks.map(({ cidr, role }) => {
      const network = parseCidr(cidr) as Network;
      const list = new BlockList();
      const [address, prefix] = network.text.split("/");
      list.addSubnet(address, Number(prefix), network.version === 4 ? "ipv4" : "ipv6");
      return { list, role };
    });
  }

  /** The caller's role, or undefined for an unknown caller. */
  roleOf(listener: GatewayListener, remoteAddress: string | undefined): string | undefined {
    if (listener.role !== undefined) return listener.role;
    if (remoteAddress === undefined) return undefined;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
    const address = mapped ? mapped[1] : remoteAddress;
    const family = isIPv6(address) ? "ipv6" : "ipv4";
    return this.networks.find(({ list }) => list.check(address, family))?.role;
  }
}
