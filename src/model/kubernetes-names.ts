/**
 * Kubernetes namespace names and labels, checked as the API server checks them, so that a bad
 * one is reported before synthesis rather than by `terraform apply`.
 */

/** A DNS-1123 label: a namespace name. */
export const NAMESPACE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A label name (the part after the optional prefix) and a non-empty label value. */
const LABEL_NAME = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)$/;
/** A DNS subdomain: the optional prefix of a label key. */
const LABEL_PREFIX = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

function labelKeyValid(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  return LABEL_NAME.test(name) && (prefix === undefined || (prefix.length <= 253 && LABEL_PREFIX.test(prefix)));
}

/** What is wrong with one label (its key, then its value), with the fix; empty when it is valid. */
export function labelProblems(key: string, value: unknown): string[] {
  const problems: string[] = [];
  if (!labelKeyValid(key)) problems.push(`"${key}" is not a Kubernetes label key; write a name of letters, digits, "-", "_" and "." (at most 63), optionally after a DNS prefix and "/"`);
  if (typeof value === "string" && value !== "" && !LABEL_NAME.test(value)) {
    problems.push(`label value "${value}" is not valid; use at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit`);
  }
  return problems;
}
