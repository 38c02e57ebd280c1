import { byString } from "./order";

/** One problem in a firewall description: where it is and what to do about it. */
export interface SpecProblem {
  /** Dotted path of the bad value, e.g. `roles.research_agent.tools.web_serch`; empty for the root. */
  readonly path: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
  /** Line of the bad value in the source file, from 1; set by the file loader. */
  readonly line?: number;
  /** Column of the bad value in the source file, from 1; set with `line`. */
  readonly column?: number;
  /**
   * Path of the construct that found the problem (`agent-firewall/tool-gateway`), so that a
   * problem names its stack and part; absent for a description checked on its own.
   */
  readonly construct?: string;
}

/**
 * Thrown before anything is synthesized when a firewall description is invalid. Lists every
 * problem found, each by its path, not only the first.
 *
 * TypeScript only (`@jsii ignore`): jsii cannot carry subclasses of `Error` to other languages,
 * where the same message, every problem by its path, arrives as the runtime's plain error.
 * @jsii ignore
 */
export class FirewallSpecError extends Error {
  /** Every problem, in path order. */
  public readonly problems: SpecProblem[];

  constructor(problems: SpecProblem[], source?: string) {
    const sorted = [...problems].sort((a, b) => byString(a.construct ?? "", b.construct ?? "") || byString(a.path, b.path));
    const where = source ? ` in ${source}` : "";
    const lines = sorted.map((p) => `  - ${p.construct === undefined ? "" : `${p.construct}: `}${p.path === "" ? "(root)" : p.path}${position(p, source)}: ${p.message}`);
    super(`invalid firewall spec${where}: ${sorted.length} problem${sorted.length === 1 ? "" : "s"}\n${lines.join("\n")}`);
    this.name = "FirewallSpecError";
    this.problems = sorted;
  }
}

/** The problems as found by the construct at `constructPath`, unless another construct is named already. */
export function raisedBy(constructPath: string, problems: ReadonlyArray<SpecProblem>): SpecProblem[] {
  return problems.map((problem) => (problem.construct === undefined ? { ...problem, construct: constructPath } : problem));
}

/** ` (file.yaml:3:7)` for a problem with a source position, else nothing. */
function position(problem: SpecProblem, source: string | undefined): string {
  if (problem.line === undefined) return "";
  const at = `${problem.line}:${problem.column ?? 1}`;
  return source ? ` (${source}:${at})` : ` (line ${at})`;
}

/** Formats a path of keys and indices as `a.b[0].c`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/**
 * Invalid options of one part, with every problem by its path.
 * @jsii ignore
 */
export abstract class OptionProblemsError extends Error {
  /** Every problem, each with its path. */
  public readonly problems: SpecProblem[];

  protected constructor(what: string, problems: SpecProblem[]) {
    const lines = problems.map((p) => `  - ${p.path}: ${p.message}`);
    super(`invalid ${what}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n${lines.join("\n")}`);
    this.problems = problems;
  }
}

/**
 * Thrown when host firewall options are invalid; lists every problem by its path.
 * TypeScript only, like `FirewallSpecError`.
 * @jsii ignore
 */
export class HostFirewallError extends OptionProblemsError {
  constructor(problems: SpecProblem[]) {
    super("host firewall options", problems);
    this.name = "HostFirewallError";
  }
}

/**
 * Thrown when the gateway's systemd unit options are invalid; lists every problem by its path.
 * TypeScript only, like `FirewallSpecError`.
 * @jsii ignore
 */
export class GatewayServiceError extends OptionProblemsError {
  constructor(problems: SpecProblem[]) {
    super("gateway service options", problems);
    this.name = "GatewayServiceError";
  }
}
