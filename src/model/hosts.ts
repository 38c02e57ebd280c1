import { looksLikeIpLiteral } from "./addresses";
import { MULTI_TENANT_DOMAINS } from "./multi-tenant-domains";
import { byString } from "./order";

/** tldts (the public suffix list), loaded at the first wildcard: only wildcards consult it, and it costs about 8 ms to load. */
const tldts = (): typeof import("tldts") => require("tldts");

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A valid host pattern in normal form. */
export interface HostPattern {
  /** `true` for `*.example.com`: any subdomain of `domain`, not `domain` itself. */
  readonly wildcard: boolean;
  /** Lower-case domain without the `*.` and without a trailing dot. */
  readonly domain: string;
}

/** Normal text of a pattern: `example.com` or `*.example.com`. */
export function hostPatternText(pattern: HostPattern): string {
  return pattern.wildcard ? `*.${pattern.domain}` : pattern.domain;
}

/**
 * Parses a host pattern (`api.example.com` exactly, `*.example.com` any subdomain but not the
 * apex; no bare `*`, public-suffix wildcard, IP literal, URL, port or scheme), or returns why it
 * is refused. Accepts upper case and one trailing dot, and normalises both away.
 */
export function parseHostPattern(raw: string): HostPattern | string {
  if (raw.trim() === "") return "empty host pattern; write a host such as api.example.com or *.example.com";
  if (/\s/.test(raw)) return `host pattern "${raw}" contains white space; remove it`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    return `"${raw}" is a URL; write only its host name, e.g. "${raw.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split(/[/:?#]/)[0]}"`;
  }
  if (raw.includes("/")) return `"${raw}" contains a path or CIDR; a host pattern is a host name only (use network.egressCidrs for address ranges)`;
  if (looksLikeIpLiteral(raw)) return `"${raw}" is an IP literal; the proxy only allows host names (use network.egressCidrs for address ranges)`;
  if (raw.includes(":")) return `"${raw}" names a port; the proxy allows port 443 only, so write the host without ":port"`;
  if (raw.includes("@")) return `"${raw}" contains "@"; write only the host name`;
  const lower = raw.toLowerCase().replace(/\.$/, "");
  const wildcard = lower.startsWith("*.");
  const domain = wildcard ? lower.slice(2) : lower;
  if (lower === "*") return `"*" would allow every host; list the hosts or use a subdomain wildcard such as *.example.com`;
  if (domain.includes("*")) return `"${raw}": "*" is allowed only as the whole first label ("*.example.com")`;
  if (domain.length > 253) return `"${raw}" is longer than 253 characters`;
  const labels = domain.split(".");
  const badLabel = labels.find((label) => !LABEL.test(label));
  if (badLabel !== undefined) {
    return badLabel === ""
      ? `"${raw}" has an empty label (two dots in a row, or a leading dot); write e.g. "*.example.com" for subdomains`
      : `"${raw}": label "${badLabel}" is not a valid DNS label (letters, digits and inner hyphens, at most 63)`;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return `"${raw}" ends in a numeric label; host names end in a top-level domain`;
  if (wildcard && labels.length < 2) return `"${raw}" would allow every host under the top-level domain "${domain}"; wildcard a domain you control, e.g. "*.example.${domain}"`;
  if (labels.length < 2) return `"${raw}" is a single label; write a fully qualified host name such as ${lower}.example.com`;
  if (wildcard) {
    const suffix = tldts().parse(domain, { allowPrivateDomains: true }).publicSuffix;
    if (suffix === domain) {
      return `"${raw}" would allow every domain under the public suffix "${domain}"; wildcard a domain you control, e.g. "*.example.${domain}"`;
    }
  }
  return { wildcard, domain };
}

/**
 * Why a valid wildcard spans many owners' hosts, if it does: its registrable domain is one a
 * cloud shares among its customers, or one that hands out names to anyone (MULTI_TENANT_DOMAINS).
 * Such a pattern needs an explicit acknowledgement (`multiTenantWildcards`). Wildcards over a
 * public suffix itself are refused by `parseHostPattern`.
 */
export function multiTenantProblem(pattern: HostPattern): string | undefined {
  if (!pattern.wildcard) return undefined;
  const shared = MULTI_TENANT_DOMAINS.find((d) => d.domain === tldts().getDomain(pattern.domain, { allowPrivateDomains: true }));
  if (!shared) return undefined;
  const text = hostPatternText(pattern);
  const below = shared.suffixBelow ? `; public-suffix rules such as ${shared.suffixBelow} sit below it` : "";
  return `"${text}" would allow hosts of many owners: subdomains of ${shared.domain} belong to different customers${below}, so an agent could reach anyone's endpoint there; list the exact hosts instead, e.g. "${shared.endpoint}", or repeat "${text}" in multiTenantWildcards next to this list if you accept that`;
}

/** Whether pattern `a` allows every host that `b` allows. */
export function covers(a: HostPattern, b: HostPattern): boolean {
  if (a.wildcard) return b.domain.endsWith(`.${a.domain}`) || (b.wildcard && b.domain === a.domain);
  return !b.wildcard && a.domain === b.domain;
}

/**
 * Normalises a list: removes duplicates and every pattern covered by another, then sorts by
 * domain. Squid 5.7 refuses to start when one dstdomain list holds overlapping entries.
 */
export function normaliseHostPatterns(patterns: ReadonlyArray<HostPattern>): HostPattern[] {
  const kept = patterns.filter((p, i) =>
    !patterns.some((q, j) => j !== i && covers(q, p) && (!covers(p, q) || j < i)),
  );
  return kept.sort((a, b) => byString(hostPatternText(a), hostPatternText(b)));
}
