/**
 * Loads a firewall file: YAML (`.yaml`, `.yml`) or JSON (`.json`) with the shape of
 * `FirewallSpecProps`, whose roles may also be written as role profiles (Rapid Claw's own form,
 * not an agent's config file):
 *
 * ```yaml
 * profiles:
 *   customer_support:
 *     tools:
 *       allowed:
 *         - knowledge_base                      # a bare name: READ
 *         - { tool: send_email, access: EXECUTE } # READ, WRITE or EXECUTE
 *       denied: [web_search]                    # explicit DENY; unlisted tools are DENY too
 *     limits: { max_tokens_per_task: 20000, max_tool_calls_per_task: 50, max_concurrent_tasks: 3 }
 *     network: { allow_egress: true, allowed_hosts: ["*.google.com"], egress_cidrs: [] }
 *     allow_file_system: false
 * ```
 *
 * A profile holds the options of a role (`RoleProps`) spelled in snake_case, with `tools` as
 * allowed and denied lists. Each profile becomes an entry of `roles`; a name may not be under
 * both. Every problem is reported with its path and its line and column in the file.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import type { Document, LineCounter } from "yaml";
import type { z } from "zod";
import { FirewallSpecError, formatPath, type SpecProblem } from "./errors";
import { describe } from "./name-rules";
import { snakeCaseOption, zod, zodSchemas } from "./schema";
import { ToolAccess, type FirewallSpecProps } from "./types";
import { schemaProblems } from "./schema-problems";
import { validateFirewallSpec } from "./validate";

/**
 * The yaml package, loaded on first use: only reading a firewall file needs it, and a stack built
 * from props would otherwise pay its load time (about 35 ms) at every cold start.
 */
const yaml = (): typeof import("yaml") => require("yaml");

/** A role option as a profile spells it. */
interface ProfileOption {
  /** Name in `RoleProps`, e.g. `maxTokensPerTask`. */
  readonly option: string;
  /** Key in a profile, e.g. `max_tokens_per_task`. */
  readonly key: string;
  /** Schema of the value in `RoleProps`. */
  readonly schema: z.ZodType;
  /** Options inside, when the value is an object. Keys inside lists (`{ cidr, ports }`) stay as they are. */
  readonly nested?: ReadonlyArray<ProfileOption>;
}

// The file schemas are built on first use (zod with them): a stack built from typed props never
// reads a file, so it never pays for them. The body keeps the indentation it had at top level.
function buildFileSchemas() {
const z = zod();
const { firewallSpecSchema } = zodSchemas();
const roleSchema = firewallSpecSchema.shape.roles.valueType;


function profileOptionsOf(shape: Record<string, z.ZodType>): ProfileOption[] {
  return Object.entries(shape).map(([option, schema]) => {
    const inner = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
    const nested = inner instanceof z.ZodObject ? profileOptionsOf(inner.shape as Record<string, z.ZodType>) : undefined;
    return { option, key: snakeCaseOption(option), schema, nested };
  });
}

/** Every role option but `tools`, which a profile writes as allowed and denied lists. */
const PROFILE_OPTIONS: ReadonlyArray<ProfileOption> = (() => {
  const { tools: _writtenAsLists, ...options } = roleSchema.shape;
  return profileOptionsOf(options as Record<string, z.ZodType>);
})();

/** Schema of an option in a profile: the value schema of `RoleProps`, object keys in snake_case. */
function profileSchemaOf(option: ProfileOption): z.ZodType {
  if (option.nested === undefined) return option.schema;
  const shape = Object.fromEntries(option.nested.map((inner) => [inner.key, profileSchemaOf(inner)]));
  const object = z.strictObject(shape, { error: (issue) => `${option.key} must be an object, got ${describe(issue.input)}` });
  return option.schema instanceof z.ZodOptional ? object.optional() : object;
}

const toolNameSchema = z.string({ error: (issue) => `a tool name must be a string, got ${describe(issue.input)}` });

/** An allowed tool written out: `{ tool, access }`; the access defaults to READ. */
const allowedToolObjectSchema = z.strictObject(
  {
    tool: z.string({ error: (issue) => (issue.input === undefined ? "tool is required" : `tool must be a tool name, got ${describe(issue.input)}`) }),
    access: z
      .enum([ToolAccess.READ, ToolAccess.WRITE, ToolAccess.EXECUTE], {
        error: (issue) => `access must be "READ", "WRITE" or "EXECUTE", got ${describe(issue.input)}; to deny a tool, list it under denied`,
      })
      .optional(),
  },
  { error: (issue) => `an allowed tool is a tool name or { tool, access }, got ${describe(issue.input)}` },
);

/** A profile of one role; `allowedTool` is the schema of an entry of `tools.allowed`. */
function profileEntrySchema(allowedTool: z.ZodType) {
  return z.strictObject(
    {
      tools: z
        .strictObject(
          {
            allowed: z.array(allowedTool, { error: (issue) => `allowed must be a list of tools, got ${describe(issue.input)}` }).optional(),
            denied: z.array(toolNameSchema, { error: (issue) => `denied must be a list of tool names, got ${describe(issue.input)}` }).optional(),
          },
          { error: (issue) => `tools must be an object with allowed and denied lists, got ${describe(issue.input)}` },
        )
        .optional(),
      ...Object.fromEntries(PROFILE_OPTIONS.map((option) => [option.key, profileSchemaOf(option)])),
    },
    { error: (issue) => `a profile must be an object, got ${describe(issue.input)}` },
  );
}

const profilesMap = (profile: z.ZodType) =>
  z.record(z.string(), profile, { error: (issue) => `profiles must be a map of role name to profile, got ${describe(issue.input)}` });

/** What the loader checks `profiles` against, after bare tool names became `{ tool }`. */
const profilesSchema = profilesMap(profileEntrySchema(allowedToolObjectSchema));

/**
 * The whole file: `FirewallSpecProps` with `roles` optional, the role `profiles`, and an
 * optional `$schema` for editors. Source of `schema/firewall.schema.json`.
 */
const firewallFileSchema = firewallSpecSchema
  .extend({
    $schema: z.string().optional().meta({ description: "JSON Schema of this file, for editors; ignored by the loader." }),
    roles: firewallSpecSchema.shape.roles.optional(),
    profiles: profilesMap(
      profileEntrySchema(
        z.union([toolNameSchema, allowedToolObjectSchema]).meta({ description: "A tool name (READ access) or { tool, access }." }),
      ),
    )
      .optional()
      .meta({ description: "Roles as Rapid Claw role profiles: role options in snake_case, tools as allowed and denied lists. A role name may appear here or under roles, not both." }),
  })
  .meta({
    title: "Rapid Claw firewall",
    description: "One typed description of an AI agent fleet: tools, roles (or role profiles) and agents, and the options of each firewall layer.",
  });

/** Role option names and their snake_case spelling, where the two differ, nested options too. */
const SNAKE_SPELLINGS: ReadonlyArray<ProfileOption> = (() => {
  const all = (options: ReadonlyArray<ProfileOption>): ProfileOption[] => options.flatMap((o) => [o, ...all(o.nested ?? [])]);
  return all(PROFILE_OPTIONS).filter((o) => o.key !== o.option);
})();

return { PROFILE_OPTIONS, SNAKE_SPELLINGS, profilesSchema, firewallFileSchema };
}

let fileSchemasBuilt: ReturnType<typeof buildFileSchemas> | undefined;

/** The file schemas, built on first use. */
function fileSchemas(): ReturnType<typeof buildFileSchemas> {
  fileSchemasBuilt ??= buildFileSchemas();
  return fileSchemasBuilt;
}

/**
 * The whole file: `FirewallSpecProps` with `roles` optional, the role `profiles`, and an
 * optional `$schema` for editors. Source of `schema/firewall.schema.json`.
 */
export const firewallFileSchema = () => fileSchemas().firewallFileSchema;


/** A message about a role, in the words of a profile: `allowEgress` becomes `allow_egress`. */
function inProfileWords(message: string): string {
  return fileSchemas().SNAKE_SPELLINGS.reduce((text, { option, key }) => text.replace(new RegExp(`\\b${option}\\b`, "g"), key), message);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Roles made from profiles, and where in the file each part of them came from. */
interface ConvertedProfiles {
  /** Roles by name, in `RoleProps` form. */
  readonly roles: Record<string, unknown>;
  /** Path in the converted spec (`roles.r.tools.t`) to path in the file (`profiles.r.tools.allowed[2]`). */
  readonly origins: ReadonlyMap<string, string>;
  readonly problems: SpecProblem[];
}

/** Whether `path` is `prefix` or lies under it. */
const isUnder = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);

/**
 * A profile's options (all but `tools`) in `RoleProps` form, recording origins. Options with a
 * problem are left out: the problem is reported, and what remains is still cross-checked.
 */
function camelCased(
  value: Record<string, unknown>,
  options: ReadonlyArray<ProfileOption>,
  rolePath: PropertyKey[],
  filePath: PropertyKey[],
  context: Conversion,
): Record<string, unknown> {
  return Object.fromEntries(
    options.flatMap((option) => {
      const optionFilePath = [...filePath, option.key];
      if (!Object.hasOwn(value, option.key) || context.hasProblem(optionFilePath)) return [];
      const optionRolePath = [...rolePath, option.option];
      context.origins.set(formatPath(optionRolePath), formatPath(optionFilePath));
      const inner = value[option.key];
      return [[option.option, option.nested && isRecord(inner) ? camelCased(inner, option.nested, optionRolePath, optionFilePath, context) : inner]];
    }),
  );
}

/** State of one conversion: origins recorded and problems found so far. */
interface Conversion {
  readonly origins: Map<string, string>;
  readonly problems: SpecProblem[];
  /** Whether a problem was found at or under a place in the file. */
  hasProblem(filePath: ReadonlyArray<PropertyKey>): boolean;
}

/**
 * Checks the `profiles` section and converts each profile into a role, except those named in
 * `declaredRoles` (the file's `roles`), which are reported as declared twice.
 */
function convertProfiles(profiles: unknown, declaredRoles: ReadonlySet<string>): ConvertedProfiles {
  const problems: SpecProblem[] = [];
  const context: Conversion = {
    origins: new Map(),
    problems,
    hasProblem: (filePath) => problems.some((p) => isUnder(p.path, formatPath(filePath))),
  };
  // Bare names become { tool } so that one object schema checks every entry, with precise messages.
  const normalised = isRecord(profiles)
    ? Object.fromEntries(
        Object.entries(profiles).map(([name, profile]) => {
          if (!isRecord(profile) || !isRecord(profile.tools) || !Array.isArray(profile.tools.allowed)) return [name, profile];
          const allowed = profile.tools.allowed.map((entry) => (typeof entry === "string" ? { tool: entry } : entry));
          return [name, { ...profile, tools: { ...profile.tools, allowed } }];
        }),
      )
    : profiles;
  const { profilesSchema, PROFILE_OPTIONS } = fileSchemas();
  const parsed = profilesSchema.safeParse(normalised);
  if (!parsed.success) {
    problems.push(...schemaProblems(parsed.error.issues, profilesSchema, ["profiles"]).map((p) => ({ ...p, message: inProfileWords(p.message) })));
  }
  if (!isRecord(normalised)) return { roles: {}, origins: context.origins, problems };

  const roles = new Map<string, unknown>();
  for (const [name, profile] of Object.entries(normalised)) {
    const rolePath = ["roles", name];
    const filePath = ["profiles", name];
    if (declaredRoles.has(name)) {
      problems.push({ path: formatPath(filePath), message: `role "${name}" is declared under both roles and profiles; keep one` });
      continue;
    }
    context.origins.set(formatPath(rolePath), formatPath(filePath));
    // A profile that is not an object still defines its role, so agents holding it are not reported too.
    if (!isRecord(profile)) { roles.set(name, {}); continue; }
    const role = camelCased(profile, PROFILE_OPTIONS, rolePath, filePath, context);
    if (isRecord(profile.tools)) role.tools = toolAccess(profile.tools, rolePath, [...filePath, "tools"], context);
    roles.set(name, role);
  }
  // Object.fromEntries, not assignment, so that a name such as "__proto__" stays an own key.
  return { roles: Object.fromEntries(roles), origins: context.origins, problems };
}

/** A profile's allowed and denied lists as a role's access map; entries with a problem left out. */
function toolAccess(tools: Record<string, unknown>, rolePath: PropertyKey[], toolsPath: PropertyKey[], context: Conversion): Record<string, ToolAccess> {
  const access = new Map<string, ToolAccess>();
  const listedUnder = new Map<string, string>();
  const put = (tool: string, level: ToolAccess, list: "allowed" | "denied", index: number) => {
    const at = [...toolsPath, list, index];
    if (context.hasProblem(at)) return;
    const earlier = listedUnder.get(tool);
    if (earlier !== undefined) {
      const message = earlier === list ? `tool "${tool}" is listed twice under ${list}; list it once` : `tool "${tool}" is both allowed and denied; keep one`;
      context.problems.push({ path: formatPath(at), message });
      return;
    }
    access.set(tool, level);
    listedUnder.set(tool, list);
    context.origins.set(formatPath([...rolePath, "tools", tool]), formatPath(at));
  };
  const listAt = (key: string) => (Array.isArray(tools[key]) ? (tools[key] as unknown[]) : []);
  listAt("allowed").forEach((entry, i) => {
    const { tool, access: level } = entry as { tool: string; access?: ToolAccess };
    put(tool, level ?? ToolAccess.READ, "allowed", i);
  });
  listAt("denied").forEach((tool, i) => put(tool as string, ToolAccess.DENY, "denied", i));
  return Object.fromEntries(access);
}

/**
 * Where a problem is: the deepest node of its path (`a.b[0].c`) present in the file. A scalar
 * value is pointed at itself, unless the message quotes its key: then the key is what is wrong
 * (an unknown option or tool, a bad name).
 */
function locate(document: Document, problem: SpecProblem): number {
  const { isAlias, isMap, isScalar, isSeq } = yaml();
  let node: unknown = document.contents;
  let offset = startOf(node) ?? 0;
  let rest = problem.path;
  while (rest !== "") {
    if (isAlias(node)) node = node.resolve(document);
    if (isMap(node)) {
      const key = rest.startsWith(".") ? rest.slice(1) : rest;
      // Longest key first: map keys such as "kubernetes.io/metadata.name" contain dots.
      let match: { name: string; pair: (typeof node.items)[number] } | undefined;
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const name = String(pair.key.value);
        const fits = key === name || key.startsWith(`${name}.`) || key.startsWith(`${name}[`);
        if (fits && (match === undefined || name.length > match.name.length)) match = { name, pair };
      }
      if (match === undefined) break;
      rest = key.slice(match.name.length);
      node = match.pair.value;
      const aboutKey = !isScalar(node) || (rest === "" && problem.message.includes(`"${match.name}"`));
      offset = (aboutKey ? startOf(match.pair.key) : startOf(node)) ?? offset;
    } else if (isSeq(node)) {
      const index = /^\[(\d+)\]/.exec(rest);
      const item = index ? node.items[Number(index[1])] : undefined;
      if (!index || item === undefined) break;
      offset = startOf(item) ?? offset;
      node = item;
      rest = rest.slice(index[0].length);
    } else break;
  }
  return offset;
}

/** Offset of a node's first character, if it has a place in the text. */
function startOf(node: unknown): number | undefined {
  return (node as { range?: [number] } | null | undefined)?.range?.[0];
}

/** The file's problem for a problem of the converted spec: profile paths put back. */
function inFileTerms(problem: SpecProblem, origins: ReadonlyMap<string, string>): SpecProblem {
  let best: string | undefined;
  for (const rolePath of origins.keys()) {
    if (isUnder(problem.path, rolePath) && (best === undefined || rolePath.length > best.length)) best = rolePath;
  }
  if (best === undefined) return problem;
  return { path: `${origins.get(best)}${problem.path.slice(best.length)}`, message: inProfileWords(problem.message) };
}

/** A problem with no path, at an offset of the text. */
function problemAt(lineCounter: LineCounter, offset: number, message: string): SpecProblem {
  const { line, col } = lineCounter.linePos(offset);
  return { path: "", message, line, column: col };
}

const FORMATS: Readonly<Record<string, "yaml" | "json">> = { ".yaml": "yaml", ".yml": "yaml", ".json": "json" };

/**
 * Parses and validates the text of a firewall file; `fileName` names it in messages and its
 * extension picks the format. Throws FirewallSpecError listing every problem with its position.
 */
export function parseFirewallFile(text: string, fileName: string): FirewallSpecProps {
  const format = FORMATS[extname(fileName).toLowerCase()];
  if (format === undefined) {
    throw new FirewallSpecError([{ path: "", message: `unsupported file type "${extname(fileName)}"; write the firewall as .yaml, .yml or .json` }], fileName);
  }
  // JSON is parsed with the YAML parser too (YAML 1.2 is a superset of JSON) for node positions.
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, stringKeys: true, prettyErrors: false });
  const syntax = [...document.errors, ...document.warnings].map((error) =>
    problemAt(lineCounter, error.pos[0], `${format === "json" ? "JSON" : "YAML"} syntax: ${error.message.split("\n")[0]}`),
  );
  if (syntax.length === 0 && format === "json") {
    try {
      JSON.parse(text);
    } catch (error) {
      const reason = (error as Error).message;
      const position = /at position (\d+)/.exec(reason);
      syntax.push(problemAt(lineCounter, position ? Number(position[1]) : 0, `JSON syntax: ${reason.replace(/ in JSON at position \d+.*$/, "")}`));
    }
  }
  if (syntax.length > 0) throw new FirewallSpecError(syntax, fileName);

  let raw: unknown;
  try {
    raw = document.toJS();
  } catch (error) {
    // The parser refuses to expand aliases past a limit ("billion laughs").
    throw new FirewallSpecError([{ path: "", message: (error as Error).message }], fileName);
  }
  const problems: SpecProblem[] = [];
  let spec = raw;
  let origins: ReadonlyMap<string, string> = new Map();
  if (isRecord(raw)) {
    const { $schema, profiles, ...rest } = raw;
    if ($schema !== undefined && typeof $schema !== "string") problems.push({ path: "$schema", message: `$schema must be the path or URL of a JSON Schema, got ${describe($schema)}` });
    spec = rest;
    if (profiles !== undefined) {
      const declared = isRecord(rest.roles) ? rest.roles : {};
      const converted = convertProfiles(profiles, new Set(Object.keys(declared)));
      problems.push(...converted.problems);
      origins = converted.origins;
      if (rest.roles === undefined || isRecord(rest.roles)) spec = { ...rest, roles: { ...converted.roles, ...declared } };
    } else if (rest.roles === undefined) {
      problems.push({ path: "roles", message: "no roles: declare them under roles (FirewallSpecProps form) or profiles (role profile form)" });
      spec = { ...rest, roles: {} };
    }
  }

  let validated: FirewallSpecProps | undefined;
  try {
    validated = validateFirewallSpec(spec, fileName);
  } catch (error) {
    if (!(error instanceof FirewallSpecError)) throw error;
    problems.push(...error.problems.map((problem) => inFileTerms(problem, origins)));
  }
  if (problems.length > 0 || validated === undefined) {
    throw new FirewallSpecError(
      problems.map((problem) => ({ ...problem, ...positionOf(document, lineCounter, problem) })),
      fileName,
    );
  }
  return validated;
}

/** Line and column, from 1, of where a problem is in the file. */
function positionOf(document: Document, lineCounter: LineCounter, problem: SpecProblem): { line: number; column: number } {
  const { line, col } = lineCounter.linePos(locate(document, problem));
  return { line, column: col };
}

/**
 * Reads, parses and validates a firewall file (`.yaml`, `.yml` or `.json`). Throws
 * FirewallSpecError when the file cannot be read or is invalid, each problem with its path and
 * its `file:line:column`.
 */
export function loadFirewallSpec(path: string): FirewallSpecProps {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory, not a file" : (error as Error).message;
    throw new FirewallSpecError([{ path: "", message: `cannot read the firewall file: ${reason}` }], path);
  }
  return parseFirewallFile(text, path);
}
