/**
 * Whether a value conforms to a JSON Schema of the subset the zod schemas translate to (objects
 * with `properties`, `required`, `additionalProperties`, `propertyNames`; arrays with `items` and
 * `minItems`; strings with `pattern`; numbers and integers with `minimum`/`maximum`; `enum`).
 * It only says yes or no, and says `undefined` for a keyword it does not know, so a caller can
 * fall back to the full validator: it exists so that valid input is recognised without loading
 * zod, which costs a cold process about 90 ms. The messages for invalid input stay zod's.
 */
export type JsonSchema = { readonly [keyword: string]: unknown };

const KNOWN = new Set(["$schema", "title", "description", "type", "properties", "required", "additionalProperties", "propertyNames", "items", "minItems", "pattern", "minimum", "maximum", "enum"]);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

const patterns = new Map<string, RegExp>();
const regex = (source: string) => {
  let compiled = patterns.get(source);
  if (compiled === undefined) patterns.set(source, (compiled = new RegExp(source, "u")));
  return compiled;
};

function typeMatches(type: unknown, value: unknown): boolean | undefined {
  switch (type) {
    case undefined: return true;
    case "object": return isObject(value);
    case "array": return Array.isArray(value);
    case "string": return typeof value === "string";
    case "boolean": return typeof value === "boolean";
    case "number": return typeof value === "number" && Number.isFinite(value);
    case "integer": return typeof value === "number" && Number.isSafeInteger(value);
    default: return undefined;
  }
}

/** `true` when `value` conforms, `false` when it does not, `undefined` when the schema uses a keyword this does not know. */
export function conformsTo(schema: JsonSchema, value: unknown): boolean | undefined {
  for (const keyword of Object.keys(schema)) if (!KNOWN.has(keyword)) return undefined;
  const type = typeMatches(schema.type, value);
  if (type !== true) return type;
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) return false;
  if (typeof value === "string" && typeof schema.pattern === "string" && !regex(schema.pattern).test(value)) return false;
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) return false;
    if (typeof schema.maximum === "number" && value > schema.maximum) return false;
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems) return false;
    if (isObject(schema.items)) return every(value, (item) => conformsTo(schema.items as JsonSchema, item));
    return true;
  }
  if (isObject(value)) return objectConforms(schema, value);
  return true;
}

function objectConforms(schema: JsonSchema, value: Record<string, unknown>): boolean | undefined {
  const properties = isObject(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {};
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  // An optional key holding `undefined` counts as absent, as in zod; a required one does not.
  for (const key of required) if (value[key] === undefined) return false;
  return every(Object.keys(value), (key) => {
    if (value[key] === undefined && !required.includes(key) && Object.hasOwn(properties, key)) return true;
    if (Object.hasOwn(properties, key)) return conformsTo(properties[key], value[key]);
    if (isObject(schema.propertyNames) && conformsTo(schema.propertyNames, key) !== true) return false;
    if (schema.additionalProperties === false) return false;
    if (isObject(schema.additionalProperties)) return conformsTo(schema.additionalProperties, value[key]);
    return true;
  });
}

/** `false` at the first item that fails, `undefined` at the first undecided one, else `true`. */
function every<T>(items: ReadonlyArray<T>, check: (item: T) => boolean | undefined): boolean | undefined {
  for (const item of items) {
    const verdict = check(item);
    if (verdict !== true) return verdict;
  }
  return true;
}
