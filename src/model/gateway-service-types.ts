/** Options of the tool gateway's systemd unit, for bare VMs. Paths are absolute, without white space or quotes. */
export interface GatewayServiceOptions {
  /**
   * The user the gateway runs as, created by the system administrator (`useradd --system`): never
   * root, and not an agent user.
   * @default "rapidclaw-gateway"
   */
  readonly user?: string;
  /**
   * The Node.js binary (20.19 or later).
   * @default "/usr/bin/node"
   */
  readonly nodePath?: string;
  /**
   * The package's single-file gateway bundle (`dist/gateway/rapidclaw-gateway.cjs` in the package).
   * @default "/usr/local/lib/node_modules/@rapidclaw/agent-firewall/dist/gateway/rapidclaw-gateway.cjs" - where `npm install --global` puts it
   */
  readonly gatewayPath?: string;
  /**
   * The firewall description the gateway loads (the file the constructs read).
   * @default "/etc/rapidclaw/firewall.yaml"
   */
  readonly configPath?: string;
  /**
   * Directory of the tool keys, one file per tool (as Vault Agent renders them); mounted read-only for the gateway.
   * @default "/etc/rapidclaw/keys"
   */
  readonly keyDirectory?: string;
  /**
   * File of `NAME=value` lines read at start; it sets `RAPIDCLAW_REDIS_URL`, which may carry
   * Redis credentials, so keep it root-owned and mode 0600 (systemd reads it before dropping privileges).
   * @default "/etc/rapidclaw/gateway.env"
   */
  readonly environmentFile?: string;
  /**
   * Address of the gateway's listeners that name none, and of its admin port.
   * @default "127.0.0.1"
   */
  readonly listenHost?: string;
  /**
   * Most memory the service may use (systemd `MemoryMax=`): bytes with an optional K, M, G suffix.
   * @default "512M"
   */
  readonly memoryMax?: string;
  /**
   * A unit the gateway needs first, such as the host firewall's boot unit (`HostEgressFirewall.unitName`).
   * @default - none
   */
  readonly after?: string;
}

/** Defaults of `GatewayServiceOptions`. */
export const GATEWAY_SERVICE_DEFAULTS = {
  user: "rapidclaw-gateway",
  nodePath: "/usr/bin/node",
  gatewayPath: "/usr/local/lib/node_modules/@rapidclaw/agent-firewall/dist/gateway/rapidclaw-gateway.cjs",
  configPath: "/etc/rapidclaw/firewall.yaml",
  keyDirectory: "/etc/rapidclaw/keys",
  environmentFile: "/etc/rapidclaw/gateway.env",
  listenHost: "127.0.0.1",
  memoryMax: "512M",
} as const;
