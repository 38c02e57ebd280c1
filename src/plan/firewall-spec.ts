import { loadFirewallSpec } from "../model/load";
import type { AgentPlatform, FirewallSpecProps } from "../model/types";
import { compileFirewall, type FirewallPlan } from "./plan";

/**
 * Plans by spec, kept off the class so that the plan is no member of the public API: the
 * constructs read it through `planOf`, which the package root does not export.
 */
const PLANS = new WeakMap<FirewallSpec, FirewallPlan>();

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

  /**
   * Reads a YAML or JSON firewall file and returns its props, checked against the schema, for
   * code that adds to them before `fromProps`. Errors name the file, line and column.
   */
  public static loadProps(path: string): FirewallSpecProps {
    return loadFirewallSpec(path);
  }

  /** The props as given. */
  public readonly props: FirewallSpecProps;

  private constructor(props: FirewallSpecProps, plan: FirewallPlan) {
    this.props = props;
    PLANS.set(this, plan);
  }

  /** The platform the firewall is built for. */
  public get platform(): AgentPlatform {
    return planOf(this).platform;
  }

  /** Kubernetes: the agents' namespace, as the description names it. */
  public get namespace(): string {
    return planOf(this).namespace;
  }

  /** Names of the roles, sorted. */
  public get roleNames(): string[] {
    return planOf(this).roles.map((role) => role.name);
  }

  /** Names of the tools, sorted. */
  public get toolNames(): string[] {
    return planOf(this).tools.map((tool) => tool.name);
  }
}

/** The compiled plan of a spec: package-internal (constructs, renderers' callers, tests). */
export function planOf(spec: FirewallSpec): FirewallPlan {
  const plan = PLANS.get(spec);
  if (plan === undefined) throw new Error("not a FirewallSpec made by FirewallSpec.fromProps or fromFile");
  return plan;
}
