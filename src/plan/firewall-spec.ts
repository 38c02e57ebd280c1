import { loadFirewallSpec } from "../model/load";
import type { FirewallSpecProps } from "../model/types";
import { compileFirewall, type FirewallPlan } from "./plan";

/**
 * A validated, compiled firewall description, shared by the constructs of one firewall. Build it
 * once with `FirewallSpec.fromProps` (or `fromFile`); invalid input throws `FirewallSpecError`
 * listing every problem before any construct is created.
 */
export class FirewallSpec {
  /** Validates and compiles typed props. */
  public static fromProps(props: FirewallSpecProps): FirewallSpec {
    return new FirewallSpec(props, compileFirewall(props));
  }

  /**
   * Reads a YAML or JSON firewall file (the shape of FirewallSpecProps; roles may be written as
   * role `profiles:`), then validates and compiles it. Errors name the file, line and column.
   */
  public static fromFile(path: string): FirewallSpec {
    return FirewallSpec.fromProps(loadFirewallSpec(path));
  }

  /** The props as given. */
  public readonly props: FirewallSpecProps;
  /** The compiled plan: resolved roles, allowlists, key grants, names and addresses. */
  public readonly plan: FirewallPlan;

  protected constructor(props: FirewallSpecProps, plan: FirewallPlan) {
    this.props = props;
    this.plan = plan;
  }
}
