import type { HostFirewallInstall } from "../../plan/host-firewall-names";

/**
 * systemd unit that re-applies the rules at boot, before the network comes up: iptables rules
 * do not survive a reboot. Order agent services `After=` and `Requires=` this unit.
 */
export function renderHostFirewallUnit(install: HostFirewallInstall): string {
  return [
    "[Unit]",
    "Description=Rapid Claw egress firewall for AI agent users",
    "DefaultDependencies=no",
    "Before=network-pre.target",
    "Wants=network-pre.target",
    "After=local-fs.target",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecStart=${install.applyPath}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
