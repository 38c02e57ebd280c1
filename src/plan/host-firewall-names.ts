import type { HostFirewallOptions } from "../model/host-firewall-types";
import { resolveHostFirewallOptions } from "../model/validate-host-firewall";

/** Where cloud-init installs the firewall on the VM. */
export interface HostFirewallInstall {
  readonly applyPath: string;
  readonly uninstallPath: string;
  /** Name of the systemd unit that re-applies the rules at every boot, e.g. `rapidclaw-egress.service`. */
  readonly unitName: string;
}

/** The paths and unit name for a chain prefix in a directory: `/usr/local/sbin/rapidclaw-egress-apply` … */
export function hostFirewallInstall(namePrefix: string, directory: string): HostFirewallInstall {
  const base = `${namePrefix.toLowerCase()}-egress`;
  const dir = directory.replace(/\/+$/, "");
  return { applyPath: `${dir}/${base}-apply`, uninstallPath: `${dir}/${base}-uninstall`, unitName: `${base}.service` };
}

/** Where the scripts and the boot unit go for these options; throws HostFirewallError when an option is invalid. */
export function hostFirewallInstallFor(options: HostFirewallOptions): HostFirewallInstall {
  const resolved = resolveHostFirewallOptions(options);
  return hostFirewallInstall(resolved.namePrefix, resolved.scriptDirectory);
}

/** Name of the chain the firewall creates and owns (the same in iptables and ip6tables). */
export function hostFirewallChain(options: HostFirewallOptions): string {
  return resolveHostFirewallOptions(options).chain;
}
