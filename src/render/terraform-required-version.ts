/**
 * One constraint of a Terraform `required_version` (`>= 1.5`, `~> 1.13.0`, `!= 1.12.1`):
 * operator, numeric release parts, and whether it names a pre-release.
 */
const CONSTRAINT = /^(=|!=|>=|>|<=|<|~>)?\s*v?(\d+(?:\.\d+)*)(-[0-9A-Za-z.-]+)?$/;

/** Operators whose version is a lower bound of every version the constraint admits. */
const LOWER_BOUND_OPERATORS = new Set(["", "=", ">=", ">", "~>"]);

/** Release parts of a version, at least three: `1.11` is `[1, 11, 0]`. */
function releaseParts(version: string): number[] {
  const parts = version.split(".").map(Number);
  while (parts.length < 3) parts.push(0);
  return parts;
}

/** Whether `version` (optionally a pre-release) is at least the release `minimum`. */
function atLeast(version: string, preRelease: boolean, minimum: string): boolean {
  const a = releaseParts(version);
  const b = releaseParts(minimum);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference > 0;
  }
  // 1.11.0-beta1 comes before 1.11.0.
  return !preRelease;
}

/**
 * Whether a `required_version` constraint admits only versions at or above the release
 * `minimum`: one of its comma-separated parts must set a lower bound at least that high.
 */
export function impliesAtLeast(constraint: string, minimum: string): boolean {
  return constraint.split(",").some((part) => {
    const match = CONSTRAINT.exec(part.trim());
    return match !== null && LOWER_BOUND_OPERATORS.has(match[1] ?? "") && atLeast(match[2], match[3] !== undefined, minimum);
  });
}

/**
 * The user's `required_version` with `>= minimum` added, as Terraform reads a comma-separated
 * list (every part must hold); unchanged when it already implies the minimum, and just
 * `>= minimum` when there is none.
 */
export function requireTerraformAtLeast(constraint: string | undefined, minimum: string): string {
  if (constraint === undefined || constraint.trim() === "") return `>= ${minimum}`;
  return impliesAtLeast(constraint, minimum) ? constraint : `${constraint}, >= ${minimum}`;
}
