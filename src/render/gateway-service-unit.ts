import type { GatewayServiceOptions } from "../model/gateway-service-types";
import { resolveGatewayServiceOptions } from "../model/validate-gateway-service";

/** Name of the gateway's unit file: `/etc/systemd/system/rapidclaw-gateway.service`. */
export const GATEWAY_SERVICE_UNIT_NAME = "rapidclaw-gateway.service";

/**
 * systemd unit that runs the tool gateway on a bare VM: the package's bundle under node, as a
 * dedicated user, restarted on failure, with the Redis URL from an environment file and the key
 * directory read-only. Hardened to what a Node HTTP server needs: no capabilities, no new
 * privileges, a read-only system, no home directories, IPv4/IPv6/Unix sockets only. Pure; throws
 * GatewayServiceError when an option is invalid.
 */
export function renderGatewayServiceUnit(options: GatewayServiceOptions = {}): string {
  const o = resolveGatewayServiceOptions(options);
  const command = [o.nodePath, o.gatewayPath, "gateway", "--config", o.configPath, "--key-dir", o.keyDirectory, "--listen-host", o.listenHost, "--admin-host", o.listenHost];
  return [
    "[Unit]",
    "Description=Rapid Claw tool gateway: permissions, rate limits and key custody for AI agents",
    `After=network-online.target${o.after === undefined ? "" : ` ${o.after}`}`,
    "Wants=network-online.target",
    ...(o.after === undefined ? [] : [`Requires=${o.after}`]),
    "",
    "[Service]",
    "Type=simple",
    `User=${o.user}`,
    `EnvironmentFile=${o.environmentFile}`,
    `ExecStart=${command.join(" ")}`,
    "Restart=on-failure",
    "RestartSec=2s",
    `ReadOnlyPaths=${o.keyDirectory}`,
    `MemoryMax=${o.memoryMax}`,
    "TasksMax=64",
    "UMask=0077",
    "NoNewPrivileges=yes",
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateMounts=yes",
    "PrivateDevices=yes",
    "DevicePolicy=closed",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "ProtectProc=invisible",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "RemoveIPC=yes",
    "KeyringMode=private",
    "SystemCallArchitectures=native",
    // Calls outside the set fail with EPERM rather than killing the process (Node probes a few at start).
    "SystemCallFilter=@system-service",
    "SystemCallFilter=~@privileged",
    "SystemCallErrorNumber=EPERM",
    // No MemoryDenyWriteExecute=: V8's JIT compiler needs writable, executable memory.
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** The systemd unit that runs the tool gateway on a bare VM. */
export class GatewayServiceUnit {
  /** Name of the unit file: `/etc/systemd/system/rapidclaw-gateway.service`. */
  public static readonly UNIT_NAME = GATEWAY_SERVICE_UNIT_NAME;

  /** The unit file (see `renderGatewayServiceUnit`); throws when an option is invalid, listing every problem. */
  public static render(options: GatewayServiceOptions = {}): string {
    return renderGatewayServiceUnit(options);
  }

  private constructor() {}
}
