import type { HostFirewallInstall } from "../../plan/host-firewall-names";
import { renderHostFirewallUnit } from "./boot-unit";
import type { HostFirewallScripts } from "./scripts";

/**
 * A `#cloud-config` document that writes both scripts and the boot unit, applies the rules at
 * once, and enables the unit where systemd exists.
 */
export function renderHostFirewallCloudInit(scripts: HostFirewallScripts, install: HostFirewallInstall): string {
  const file = (path: string, content: string, permissions: string) => ({ path, owner: "root:root", permissions, content });
  const unitPath = `/etc/systemd/system/${install.unitName}`;
  const document = {
    write_files: [
      file(install.applyPath, scripts.applyScript, "0755"),
      file(install.uninstallPath, scripts.uninstallScript, "0755"),
      file(unitPath, renderHostFirewallUnit(install), "0644"),
    ],
    runcmd: [
      [install.applyPath],
      ["sh", "-c", `if command -v systemctl >/dev/null 2>&1; then systemctl daemon-reload && systemctl enable ${install.unitName}; fi`],
    ],
  };
  // yaml is loaded here, not with the library: stacks without a host firewall never need it.
  const { stringify } = require("yaml") as typeof import("yaml");
  return `#cloud-config\n${stringify(document, { lineWidth: 0 })}`;
}
