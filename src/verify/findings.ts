/** Shared vocabulary of `rapidclaw verify`: what an artifact grants, and how it compares to the description. */

/** One thing an artifact lets a role do (a host, a port, a peer, a key path, a tool at an access level). */
export interface Grant {
  /** The thing, in words that compare: `api.example.com`, `CONNECT :443`, `read agent-keys/data/tools/x`, `web_search:READ`. */
  readonly item: string;
  /** The artifact that grants it: a resource address, a file inside one. */
  readonly artifact: string;
  /** The rule in that artifact: a squid.conf line, a policy path, a listener. */
  readonly rule: string;
}

/** How one layer compares with the description for one role and aspect. */
export enum LayerStatus {
  /** Grants exactly what the description asks for. */
  EQUAL = "equal",
  /** Grants less (fine: listed so that a missing grant is noticed). */
  NARROWER = "narrower",
  /** Grants something the description does not: a finding. */
  WIDER = "wider",
}

/** The layers a role is checked at. */
export type Layer = "network" | "keys" | "gateway" | "hooks";

/** One row of the report: a role (or the gateway), a layer, an aspect of it. */
export interface LayerCheck {
  /** A role's name; `(gateway)` for the gateway's own grants; `(all roles)` for tool rules. */
  readonly principal: string;
  readonly layer: Layer;
  readonly aspect: string;
  readonly status: LayerStatus;
  /** What the description asks for, in the same words as the grants. */
  readonly expected: string[];
  /** Grants beyond the description, each with where it comes from. */
  readonly wider: Grant[];
  /** What the description asks for that the artifacts do not grant. */
  readonly narrower: string[];
}

/**
 * Compares grants with the expected items: a grant covered by some expected item is fine, the
 * rest are wider; expected items no grant covers are narrower.
 */
export function compareGrants(
  principal: string,
  layer: Layer,
  aspect: string,
  expected: ReadonlyArray<string>,
  grants: ReadonlyArray<Grant>,
  covers: (expected: string, granted: string) => boolean = (e, g) => e === g,
): LayerCheck {
  const wider = dedupeGrants(grants.filter((g) => !expected.some((e) => covers(e, g.item))));
  const narrower = [...new Set(expected.filter((e) => !grants.some((g) => covers(e, g.item))))];
  const status = wider.length > 0 ? LayerStatus.WIDER : narrower.length > 0 ? LayerStatus.NARROWER : LayerStatus.EQUAL;
  return { principal, layer, aspect, status, expected: [...new Set(expected)], wider, narrower };
}

function dedupeGrants(grants: Grant[]): Grant[] {
  const seen = new Set<string>();
  return grants.filter((g) => {
    const key = `${g.item}\u0000${g.artifact}\u0000${g.rule}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
