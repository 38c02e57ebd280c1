// Rules for names and the way values are described in messages: shared by the zod schemas (files,
// and typed props with problems) and the checks that run without loading zod.

/** Names of tools, roles and agents: lower case, digits, `_` and `-`, starting with a letter. */
export const NAME_PATTERN = /^[a-z]([a-z0-9_-]*[a-z0-9])?$/;

/** Longest name; leaves room for the suffixes generated Kubernetes and Vault names carry. */
export const MAX_NAME_LENGTH = 48;

/** The firewall's own name: a DNS-1123 label, since it starts Kubernetes object names. */
export const FIREWALL_NAME_PATTERN = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

/**
 * Longest firewall name: `<name>-egress-proxy` must stay a Kubernetes Service name (a DNS label
 * of at most 63), with room for the role and agent names it prefixes.
 */
export const MAX_FIREWALL_NAME_LENGTH = 24;

/** A value described for an error message: `"abc"`, `null`, a list, an object, `12`. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return `"${value}"`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}
