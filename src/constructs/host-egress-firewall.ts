import { Annotations, TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { dnsOptInWarning } from "../model/dns-opt-in";
import type { HostFirewallOptions, HostFirewallReservedEndpoint } from "../model/host-firewall-types";
import type { FirewallSpecProps } from "../model/types";
import { hostFirewallInstallFor } from "../plan/host-firewall-names";
import { vmGatewayReservations, type VmGatewayUsersProps } from "../plan/vm-gateway-reservations";
import { renderHostFirewallUnit } from "../render/host-firewall/boot-unit";
import { renderHostFirewallCloudInit } from "../render/host-firewall/cloud-init";
import { renderHostFirewall } from "../render/host-firewall/scripts";
import { terraformLiteral } from "../terraform/terraform-literal";

/** Props of HostEgressFirewall: the firewall options, `scriptDirectory` (where the scripts are installed) included. */
export interface HostEgressFirewallProps extends HostFirewallOptions {}

/**
 * Egress firewall for agents on a bare VM: iptables/ip6tables rules that confine only the agent
 * users' outbound traffic to the egress proxy and listed CIDR ports (and DNS only with `dnsReason`,
 * with a synthesis warning). Creates no
 * resources; it renders the scripts and a cloud-init document, and outputs them so a VM
 * resource (any provider) can take `cloudInit` as its user data.
 */
export class HostEgressFirewall extends Construct {
  /**
   * `reservedEndpoints` for a tool gateway on the VM: each role's gateway listener for that role's
   * agent users only, and Redis (when given) for the gateway's own user. Throws FirewallSpecError
   * on an invalid firewall description, HostFirewallError when a listener names no role or a role
   * has no users.
   */
  public static gatewayReservations(spec: FirewallSpecProps, users: VmGatewayUsersProps): HostFirewallReservedEndpoint[] {
    return vmGatewayReservations(spec, users);
  }

  /** POSIX sh script that installs or updates the rules; idempotent. */
  public readonly applyScript: string;
  /** POSIX sh script that removes exactly what the apply script added. */
  public readonly uninstallScript: string;
  /** systemd unit that re-applies the rules at boot (rules do not survive a reboot). */
  public readonly systemdUnit: string;
  /** `#cloud-config` user data: writes both scripts and the unit, applies, enables the unit. */
  public readonly cloudInit: string;
  /** Path of the apply script on the VM. */
  public readonly applyScriptPath: string;
  /** Path of the uninstall script on the VM. */
  public readonly uninstallScriptPath: string;
  /** Name of the boot unit, e.g. `rapidclaw-egress.service`. */
  public readonly unitName: string;

  constructor(scope: Construct, id: string, props: HostEgressFirewallProps) {
    super(scope, id);
    const scripts = renderHostFirewall(props);
    const install = hostFirewallInstallFor(props);
    this.applyScript = scripts.applyScript;
    this.uninstallScript = scripts.uninstallScript;
    this.systemdUnit = renderHostFirewallUnit(install);
    this.cloudInit = renderHostFirewallCloudInit(scripts, install);
    this.applyScriptPath = install.applyPath;
    this.uninstallScriptPath = install.uninstallPath;
    this.unitName = install.unitName;
    if (props.dnsReason !== undefined) {
      const resolvers = [...(props.dnsResolvers ?? []), ...(props.allowLoopback === false ? [] : ["a resolver on loopback"])];
      Annotations.of(this).addWarning(dnsOptInWarning(`Agent users ${props.users.join(", ")}`, resolvers.join(", ") || "none listed", props.dnsReason));
    }

    // Output names start with the construct id so that two firewalls in one stack do not collide.
    const outputPrefix = id.replace(/[^A-Za-z0-9_-]/g, "_").replace(/^(?![A-Za-z_])/, "_");
    const output = (name: string, value: string, description: string) =>
      new TerraformOutput(this, name, { value: terraformLiteral(value), description }).overrideLogicalId(`${outputPrefix}_${name}`);
    output("apply_script", this.applyScript, "Host egress firewall: apply script (POSIX sh, run as root)");
    output("uninstall_script", this.uninstallScript, "Host egress firewall: uninstall script (POSIX sh, run as root)");
    output("cloud_init", this.cloudInit, "Host egress firewall: #cloud-config user data that installs and applies it");
  }
}
