/**
 * What a squid.conf lets through each of its listeners, read from its directives' meaning (ACL
 * definitions, `http_access` and `ssl_bump` order and negation), not from line positions. The
 * result is an upper bound: deny rules only narrow, so they are ignored unless a deny rule refuses
 * everything on a listener (later rules are then unreachable). On an `ssl-bump` listener a CONNECT
 * also has to pass `ssl_bump` at step 1 (a rule other than `terminate`); later steps only narrow.
 */
import { covers, hostPatternText, type HostPattern } from "../model/hosts";

/** An `http_port` / `https_port` line. */
export interface SquidListener {
  /** `name=` of the port, or the port text when unnamed. */
  readonly name: string;
  /** Listening address; undefined for every address. */
  readonly address?: string;
  readonly port: number;
  readonly line: number;
  /** `ssl-bump` on the port: CONNECTs there are also decided by `ssl_bump`. */
  readonly sslBump: boolean;
}

/** What one `http_access allow` line lets through one listener. */
export interface SquidAllowance {
  /** Host patterns, or "any host" when the rule has no destination-name condition. */
  readonly hosts: HostPattern[] | "any";
  /** Other destination conditions that are not host names (`dst`, regex): each widens. */
  readonly otherDestinations: string[];
  /** `CONNECT :443`, `HTTP :80`, `any method :443`, `CONNECT :any port` … */
  readonly ports: string[];
  /** The rule, for findings: `line 42: http_access allow CONNECT tls_port …`. */
  readonly rule: string;
}

/** A parsed squid.conf. */
export interface SquidConfig {
  readonly listeners: SquidListener[];
  /** What each listener (by `name`) lets through, in rule order. */
  allowances(listener: SquidListener): SquidAllowance[];
}

interface Acl {
  readonly type: string;
  readonly values: string[];
}

interface AccessRule {
  /** `http_access allow`, or an `ssl_bump` action that lets the tunnel go on (not `terminate`). */
  readonly allow: boolean;
  readonly terms: { readonly acl: string; readonly negated: boolean }[];
  readonly text: string;
}

/** ACL types that decide nothing about the request (they annotate it). */
const ANNOTATIONS = new Set(["annotate_transaction", "annotate_client", "note"]);
const HOST_TYPES = new Set(["dstdomain", "ssl::server_name"]);

/** `.x.com` (Squid: x.com and every subdomain) as our patterns; `x.com` exactly. */
function dstdomainPatterns(value: string): HostPattern[] {
  const lower = value.toLowerCase();
  return lower.startsWith(".") ? [{ wildcard: true, domain: lower.slice(1) }, { wildcard: false, domain: lower.slice(1) }] : [{ wildcard: false, domain: lower }];
}

function logicalLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let pending = "";
  let start = 0;
  text.split("\n").forEach((raw, i) => {
    if (pending === "") start = i + 1;
    const line = raw.replace(/\r$/, "");
    if (line.endsWith("\\")) { pending += line.slice(0, -1) + " "; return; }
    const whole = (pending + line).trim();
    pending = "";
    if (whole !== "" && !whole.startsWith("#")) out.push({ text: whole, line: start });
  });
  return out;
}

function listenerOf(words: string[], line: number): SquidListener | undefined {
  const endpoint = words[1] ?? "";
  const match = /^(?:\[?([0-9a-f.:]+?)\]?:)?(\d+)$/i.exec(endpoint);
  if (!match) return undefined;
  const name = words.slice(2).find((w) => w.startsWith("name="))?.slice(5) ?? endpoint;
  return { name, address: match[1], port: Number(match[2]), line, sslBump: words.slice(2).includes("ssl-bump") };
}

/** The annotation shadow mode's rules carry (`event=would_block`). */
const AUDIT_ANNOTATION = "event=would_block";

/**
 * Parses squid.conf text. With `audit` (the description asks for the proxy's shadow mode) the
 * rules that carry the `would_block` annotation are left out: they are the audit's, and let
 * through on purpose what the enforced rules refuse; without it they count like any other.
 */
export function parseSquidConf(text: string, options: { readonly audit?: boolean } = {}): SquidConfig {
  const listeners: SquidListener[] = [];
  const acls = new Map<string, Acl>();
  const rules: AccessRule[] = [];
  const bumpRules: AccessRule[] = [];
  for (const { text: line, line: number } of logicalLines(text)) {
    const words = line.split(/\s+/);
    if (words[0] === "http_port" || words[0] === "https_port") {
      const listener = listenerOf(words, number);
      if (listener) listeners.push(listener);
    } else if (words[0] === "acl" && words.length >= 3) {
      const values = words.slice(3).filter((w) => !/^-[a-z]$/i.test(w));
      const existing = acls.get(words[1]);
      acls.set(words[1], { type: words[2], values: [...(existing?.values ?? []), ...values] });
    } else if (options.audit && (words[0] === "http_access" || words[0] === "ssl_bump") && words.slice(2).some((w) => acls.get(w)?.type === "annotate_transaction" && acls.get(w)?.values.includes(AUDIT_ANNOTATION))) {
      continue;
    } else if (words[0] === "http_access" && (words[1] === "allow" || words[1] === "deny")) {
      const terms = words.slice(2).map((w) => ({ acl: w.replace(/^!/, ""), negated: w.startsWith("!") }));
      rules.push({ allow: words[1] === "allow", terms, text: `line ${number}: ${line}` });
    } else if (words[0] === "ssl_bump" && words.length >= 2) {
      const terms = words.slice(2).map((w) => ({ acl: w.replace(/^!/, ""), negated: w.startsWith("!") }));
      bumpRules.push({ allow: words[1] !== "terminate", terms, text: `line ${number}: ${line}` });
    }
  }
  return {
    listeners,
    allowances: (listener) => {
      const access = allowancesOf(listener, acls, rules, 0);
      return listener.sslBump ? throughSslBump(access, allowancesOf(listener, acls, bumpRules, 1)) : access.map(formatAllowance);
    },
  };
}

/** Whether a term can hold for a request on `listener` (listener conditions decided; others assumed possible). */
function termPossible(term: AccessRule["terms"][number], acl: Acl | undefined, listener: SquidListener, step: number): boolean {
  if (acl === undefined) return true;
  if (acl.type === "at_step" && step > 0) return acl.values.includes(`SslBump${step}`) !== term.negated;
  if (acl.type === "myportname") return acl.values.includes(listener.name) !== term.negated;
  if (acl.type === "localport") return acl.values.includes(String(listener.port)) !== term.negated;
  if (acl.type === "all" || (acl.type === "src" && acl.values.includes("all"))) return !term.negated;
  return true;
}

/** Whether a term holds for every request on `listener` (for a deny that ends the rule list). */
function termAlways(term: AccessRule["terms"][number], acl: Acl | undefined, listener: SquidListener): boolean {
  if (term.acl === "all" && !term.negated) return true;
  if (acl === undefined) return false;
  if (ANNOTATIONS.has(acl.type)) return true;
  if (acl.type === "myportname" && !term.negated) return acl.values.includes(listener.name);
  return false;
}

/** What one rule lets through, before its ports are put in words; `ports` undefined for any port. */
interface RawAllowance {
  readonly hosts: HostPattern[] | "any";
  readonly otherDestinations: string[];
  readonly method: "any method" | "CONNECT" | "HTTP";
  readonly ports?: string[];
  readonly rule: string;
}

/** The rules' allowances on a listener: `http_access` (step 0) or `ssl_bump` at step `step`. */
function allowancesOf(listener: SquidListener, acls: Map<string, Acl>, rules: AccessRule[], step: number): RawAllowance[] {
  const out: RawAllowance[] = [];
  for (const rule of rules) {
    const lookup = (name: string) => (name === "all" ? { type: "all", values: [] } : acls.get(name));
    if (!rule.terms.every((t) => termPossible(t, lookup(t.acl), listener, step))) continue;
    if (!rule.allow) {
      if (rule.terms.every((t) => termAlways(t, lookup(t.acl), listener))) break;
      continue;
    }
    out.push(allowanceOf(rule, lookup));
  }
  return out;
}

/**
 * A CONNECT on an `ssl-bump` listener goes on only when `ssl_bump` at step 1 lets it (peek,
 * stare, splice or bump): each CONNECT allowance of `http_access` is narrowed to what the
 * step-1 rules allow; requests other than CONNECT are not bumped and keep their allowance.
 */
function throughSslBump(access: RawAllowance[], bump: RawAllowance[]): SquidAllowance[] {
  const out: SquidAllowance[] = [];
  for (const a of access) {
    if (a.method !== "CONNECT") out.push(formatAllowance({ ...a, method: "HTTP" }));
    if (a.method === "HTTP") continue;
    for (const b of bump.filter((x) => x.method !== "HTTP")) {
      const ports = a.ports === undefined ? b.ports : b.ports === undefined ? a.ports : a.ports.filter((p) => b.ports?.includes(p));
      if (ports?.length === 0) continue;
      const hosts = intersectHosts(a.hosts, b.hosts);
      if (hosts !== "any" && hosts.length === 0 && a.otherDestinations.length === 0 && b.otherDestinations.length === 0) continue;
      out.push(formatAllowance({ hosts, otherDestinations: [...a.otherDestinations, ...b.otherDestinations], method: "CONNECT", ports, rule: `${b.rule} (after ${a.rule})` }));
    }
  }
  return out;
}

/** Hosts both lists allow (an upper bound: each pattern of one that the other covers). */
function intersectHosts(a: HostPattern[] | "any", b: HostPattern[] | "any"): HostPattern[] | "any" {
  if (a === "any") return b;
  if (b === "any") return a;
  return dedupe([...a.filter((p) => b.some((q) => covers(q, p))), ...b.filter((p) => a.some((q) => covers(q, p)))]);
}

function formatAllowance(a: RawAllowance): SquidAllowance {
  return { hosts: a.hosts, otherDestinations: a.otherDestinations, ports: (a.ports ?? ["any port"]).map((p) => `${a.method} :${p}`), rule: a.rule };
}

function allowanceOf(rule: AccessRule, lookup: (name: string) => Acl | undefined): RawAllowance {
  let hosts: HostPattern[] | "any" = "any";
  const otherDestinations: string[] = [];
  const excluded: HostPattern[] = [];
  let method: RawAllowance["method"] = "any method";
  let ports: string[] | undefined;
  for (const term of rule.terms) {
    const acl = lookup(term.acl);
    if (acl === undefined) continue;
    if (HOST_TYPES.has(acl.type)) {
      const patterns = acl.values.flatMap(dstdomainPatterns);
      if (term.negated) excluded.push(...patterns);
      // Several host conditions on one line all have to hold: the first bounds the rest.
      else if (hosts === "any") hosts = patterns;
    } else if (!term.negated && (acl.type === "dst" || acl.type.startsWith("dstdom_regex") || acl.type === "url_regex" || acl.type === "ssl::server_name_regex")) {
      otherDestinations.push(`${acl.type} ${term.acl}: ${acl.values.join(" ")}`);
    } else if (acl.type === "method" && acl.values.length === 1 && acl.values[0] === "CONNECT") {
      method = term.negated ? "HTTP" : "CONNECT";
    } else if (acl.type === "port" && !term.negated) {
      ports = ports === undefined ? acl.values : ports.filter((p) => acl.values.includes(p));
    }
  }
  if (hosts !== "any") {
    const exactOut = new Set(excluded.filter((p) => !p.wildcard).map((p) => p.domain));
    const wildOut = excluded.filter((p) => p.wildcard).map((p) => p.domain);
    hosts = hosts.filter((p) => !(p.wildcard ? false : exactOut.has(p.domain)) && !wildOut.some((w) => p.domain === w || p.domain.endsWith(`.${w}`)));
  }
  return { hosts: hosts === "any" ? "any" : dedupe(hosts), otherDestinations, method, ports, rule: rule.text };
}

function dedupe(patterns: HostPattern[]): HostPattern[] {
  const seen = new Map(patterns.map((p) => [hostPatternText(p), p]));
  return [...seen.values()];
}
