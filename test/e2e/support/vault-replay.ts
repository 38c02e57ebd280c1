import { randomInt } from "node:crypto";
import type { OpenBaoServer } from "./openbao";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/**
 * Settings of each synthesized resource this replay applies, as the Vault provider sends them to
 * the API. A `vault_*` type not listed, or a setting not listed, fails the replay: a new setting
 * must be replayed (or deliberately ignored here), never silently dropped.
 */
const VAULT_RESOURCES: Record<string, ReadonlySet<string>> = {
  vault_mount: new Set(["path", "type", "options", "description"]),
  vault_auth_backend: new Set(["path", "type", "description"]),
  vault_kv_secret_backend_v2: new Set(["mount", "max_versions", "cas_required"]),
  vault_kubernetes_auth_backend_config: new Set(["backend", "kubernetes_host"]),
  vault_policy: new Set(["name", "policy"]),
  vault_approle_auth_backend_role: new Set([
    "backend", "role_name", "secret_id_bound_cidrs", "token_bound_cidrs", "secret_id_num_uses", "secret_id_ttl",
    "token_ttl", "token_max_ttl", "token_no_default_policy", "token_policies",
  ]),
  vault_kubernetes_auth_backend_role: new Set([
    "backend", "role_name", "bound_service_account_names", "bound_service_account_namespaces", "audience",
    "token_ttl", "token_max_ttl", "token_no_default_policy", "token_policies",
  ]),
  // depends_on orders Terraform's graph; the replay applies types in dependency order anyway.
  vault_kv_secret_v2: new Set(["mount", "name", "data_json", "data_json_wo", "data_json_wo_version", "depends_on"]),
  vault_generic_endpoint: new Set(["path", "data_json", "disable_read", "disable_delete", "depends_on"]),
};
/** Settings of the non-Vault resources whose values the Vault resources refer to. */
const VALUE_RESOURCES: Record<string, ReadonlySet<string>> = {
  random_password: new Set(["length", "special", "keepers"]),
  time_rotating: new Set(["rotation_hours", "triggers"]),
};

/** What the replay applied, for the test to check against the real server. */
export interface VaultReplay {
  /** KV v2 secrets written: `<mount>/<name>` to the data stored. */
  readonly secrets: Map<string, Json>;
  /** Metadata written by generic endpoints: path to the data. */
  readonly endpoints: Map<string, Json>;
  /** Policies by name. */
  readonly policies: Map<string, string>;
  /** Login roles as applied: `<backend>/<role_name>` to the API fields. */
  readonly roles: Map<string, Json>;
  /** Values of random passwords (ephemeral and managed), by reference (`ephemeral.random_password.x`). */
  readonly passwords: Map<string, string>;
}

/** Options of `replayVault`. */
export interface VaultReplayOptions {
  /**
   * Auth backends the stack expects to exist (`vault.existingAuthMount`, `VaultAuthMount.fromAuthPath`):
   * path to type, enabled before the replay as an operator would.
   */
  readonly existingAuthMounts?: Record<string, string>;
  /** Kubernetes objects the stack refers to and Terraform would know after creating them: reference to value. */
  readonly outsideValues?: Record<string, string>;
}

/**
 * Applies every `vault_*` resource of a synthesized stack to a real server through its HTTP API, in
 * the order Terraform's graph gives, with references between resources resolved and `jsonencode`
 * evaluated. Ephemeral and managed random passwords get fresh values; `time_rotating.*.unix` is now.
 */
export function replayVault(server: OpenBaoServer, doc: Json, options: VaultReplayOptions = {}): VaultReplay {
  const replay: VaultReplay = { secrets: new Map(), endpoints: new Map(), policies: new Map(), roles: new Map(), passwords: new Map() };
  const values = new Map<string, unknown>(Object.entries(options.outsideValues ?? {}));
  const resources = doc.resource ?? {};
  for (const type of Object.keys(resources)) {
    if (type.startsWith("vault_") && !(type in VAULT_RESOURCES)) throw new Error(`resource type ${type} is not replayed`);
  }
  for (const [type, known] of Object.entries(VALUE_RESOURCES)) {
    for (const [id, resource] of Object.entries<Json>(resources[type] ?? {})) onlyKnown(`${type}.${id}`, resource, known);
  }
  for (const [id, resource] of Object.entries<Json>(doc.ephemeral?.random_password ?? {})) {
    onlyKnown(`ephemeral.random_password.${id}`, resource, VALUE_RESOURCES.random_password);
    replay.passwords.set(`ephemeral.random_password.${id}`, password(resource));
  }
  for (const [id, resource] of Object.entries<Json>(resources.random_password ?? {})) replay.passwords.set(`random_password.${id}`, password(resource));
  for (const [reference, value] of replay.passwords) values.set(`${reference}.result`, value);
  for (const id of Object.keys(resources.time_rotating ?? {})) values.set(`time_rotating.${id}.unix`, Math.floor(Date.now() / 1000));
  for (const [path, type] of Object.entries(options.existingAuthMounts ?? {})) server.write("POST", `sys/auth/${path}`, { type });

  const each = (type: string, apply: (resource: Json, id: string) => void) => {
    for (const [id, raw] of Object.entries<Json>(resources[type] ?? {})) {
      onlyKnown(`${type}.${id}`, raw, VAULT_RESOURCES[type]);
      apply(resolve(raw, doc, values, `${type}.${id}`), id);
    }
  };
  each("vault_mount", (m) => server.write("POST", `sys/mounts/${m.path}`, { type: m.type, description: m.description, options: m.options }));
  each("vault_auth_backend", (a) => server.write("POST", `sys/auth/${a.path}`, { type: a.type, description: a.description }));
  each("vault_kv_secret_backend_v2", (s) => server.write("POST", `${s.mount}/config`, { max_versions: s.max_versions, cas_required: s.cas_required }));
  each("vault_kubernetes_auth_backend_config", (c) => server.write("POST", `auth/${c.backend}/config`, { kubernetes_host: c.kubernetes_host }));
  each("vault_policy", (p) => {
    server.write("PUT", `sys/policies/acl/${p.name}`, { policy: p.policy });
    replay.policies.set(p.name, p.policy);
  });
  for (const type of ["vault_approle_auth_backend_role", "vault_kubernetes_auth_backend_role"]) {
    each(type, ({ backend, role_name: name, ...fields }) => {
      server.write("POST", `auth/${backend}/role/${name}`, fields);
      replay.roles.set(`${backend}/${name}`, fields);
    });
  }
  each("vault_kv_secret_v2", (s) => {
    // Write-only or not, the provider sends the same data; only what Terraform keeps differs.
    const data = JSON.parse(s.data_json ?? s.data_json_wo);
    server.write("POST", `${s.mount}/data/${s.name}`, { data });
    replay.secrets.set(`${s.mount}/${s.name}`, data);
  });
  each("vault_generic_endpoint", (e) => {
    const data = JSON.parse(e.data_json);
    server.write("POST", e.path, data);
    replay.endpoints.set(e.path, data);
  });
  return replay;
}

function onlyKnown(what: string, settings: Json, known: ReadonlySet<string>): void {
  const unknown = Object.keys(settings).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new Error(`${what}: settings this replay does not apply: ${unknown.join(", ")}`);
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function password(resource: Json): string {
  if (resource.special !== false) throw new Error("random_password with special characters is not replayed");
  return Array.from({ length: resource.length }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join("");
}

/** A resource's settings with every `${...}` evaluated (references and `jsonencode`). */
function resolve(value: unknown, doc: Json, values: Map<string, unknown>, where: string): Json {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      const whole = /^\$\{(.*)\}$/s.exec(v);
      if (whole) return new Expression(whole[1], doc, values, where).evaluate();
      if (v.includes("${")) throw new Error(`${where}: interpolation inside text is not replayed: ${v}`);
      return v;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as Json;
}

/**
 * The Terraform expressions the stacks synthesize: a reference (`vault_mount.x.path`,
 * `kubernetes_service_account_v1.x.metadata[0].name`), or `jsonencode(<object>)` of literals and
 * references. Anything else fails.
 */
class Expression {
  private at = 0;
  constructor(private readonly text: string, private readonly doc: Json, private readonly values: Map<string, unknown>, private readonly where: string) {}

  evaluate(): unknown {
    const value = this.value();
    this.space();
    if (this.at !== this.text.length) this.fail("trailing text");
    return value;
  }

  private fail(why: string): never {
    throw new Error(`${this.where}: cannot evaluate \${${this.text}} (${why} at ${this.at})`);
  }

  private space(): void {
    while (/\s/.test(this.text[this.at] ?? "")) this.at++;
  }

  private eat(token: string): boolean {
    this.space();
    if (!this.text.startsWith(token, this.at)) return false;
    this.at += token.length;
    return true;
  }

  private value(): unknown {
    this.space();
    const rest = this.text.slice(this.at);
    if (rest.startsWith('"')) {
      const literal = /^"(?:[^"\\]|\\.)*"/.exec(rest)?.[0] ?? this.fail("unterminated string");
      this.at += literal.length;
      return JSON.parse(literal);
    }
    const number = /^-?\d+(\.\d+)?/.exec(rest)?.[0];
    if (number !== undefined) {
      this.at += number.length;
      return Number(number);
    }
    if (this.eat("[")) return this.list("]", () => this.value());
    if (this.eat("{")) return Object.fromEntries(this.list("}", () => this.pair()));
    if (this.eat("jsonencode(")) {
      const inner = this.value();
      if (!this.eat(")")) this.fail("expected )");
      return JSON.stringify(inner);
    }
    for (const word of ["true", "false", "null"] as const) if (/^(true|false|null)\b/.test(rest) && rest.startsWith(word)) { this.at += word.length; return JSON.parse(word); }
    const reference = /^[a-z_][a-z0-9_-]*(\.[A-Za-z0-9_-]+|\[\d+\])+/i.exec(rest)?.[0] ?? this.fail("unknown expression");
    this.at += reference.length;
    return this.lookUp(reference);
  }

  private pair(): [string, unknown] {
    const key = this.value();
    if (typeof key !== "string") this.fail("object key must be a string");
    if (!this.eat("=")) this.fail("expected =");
    return [key, this.value()];
  }

  private list<T>(close: string, item: () => T): T[] {
    const items: T[] = [];
    if (this.eat(close)) return items;
    do items.push(item()); while (this.eat(","));
    if (!this.eat(close)) this.fail(`expected ${close}`);
    return items;
  }

  /** A value the replay made (passwords, rotation times), else the referenced resource's own setting. */
  private lookUp(reference: string): unknown {
    if (this.values.has(reference)) return this.values.get(reference);
    const [type, id, ...path] = reference.replace(/\[(\d+)\]/g, ".$1").split(".");
    let value: unknown = this.doc.resource?.[type]?.[id];
    if (value === undefined) this.fail(`unknown resource ${type}.${id}`);
    for (const step of path) value = (value as Json)?.[step];
    // Terraform keeps blocks as lists; the JSON has the one block as an object.
    if (value === undefined && path.includes("0")) {
      value = this.doc.resource[type][id];
      for (const step of path.filter((s) => s !== "0")) value = (value as Json)?.[step];
    }
    if (value === undefined || typeof value === "object") this.fail(`${reference} has no value the replay can know`);
    return typeof value === "string" && value.startsWith("${") ? resolve(value, this.doc, this.values, this.where) : value;
  }
}
