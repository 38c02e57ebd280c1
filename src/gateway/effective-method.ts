import type { IncomingHttpHeaders } from "node:http";

/**
 * Headers with which frameworks let a request name another method (Express method-override,
 * Symfony, Laravel, ASP.NET, Google APIs) or another path (IIS, Symfony's `X-Original-URL`): an
 * upstream that honours them performs what the gateway did not decide on.
 */
export const OVERRIDE_HEADERS: ReadonlyArray<string> = ["x-http-method-override", "x-http-method", "x-method-override", "x-original-url", "x-rewrite-url"];

/** Methods never forwarded: TRACE and TRACK echo the request (the key with it); CONNECT opens a tunnel. */
export const REFUSED_METHODS: ReadonlyArray<string> = ["TRACE", "TRACK", "CONNECT"];

/**
 * Why a proxied call's effective method could differ from the one access is decided by, if it
 * could: a refused method, an override header, or a `_method` query parameter (Rails, Laravel,
 * Express method-override; any parameter whose decoded name starts with `_method`, so `_METHOD`
 * and `_method[]` too, with `&` or `;` (older Rack) between parameters). Refusing them, for
 * every role, leaves the request line's method and path the ones the upstream acts on.
 */
export function methodProblem(method: string, query: string, headers: IncomingHttpHeaders): string | undefined {
  if (REFUSED_METHODS.includes(method)) return `method ${method} is never forwarded`;
  const header = OVERRIDE_HEADERS.find((name) => headers[name] !== undefined);
  if (header !== undefined) return `${header} is refused: the method and path of the request line are the ones decided on`;
  if (query.slice(1).split(/[&;]/).some((pair) => parameterName(pair).startsWith("_method"))) return "a _method query parameter is refused: the method of the request line is the one decided on";
  return undefined;
}

/** A query parameter's name as a lenient server decodes it: escapes byte by byte, `+` as space, trimmed, lower case. */
function parameterName(pair: string): string {
  const name = pair.split("=")[0].replace(/\+/g, " ").replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return name.trim().toLowerCase();
}

/**
 * Why a POST body could name another method, if it could: a `_method` field, which Rails (Rack's
 * MethodOverride: form bodies) and Laravel (form and JSON bodies) honour on POST. Only the field
 * names are read, so a body that merely mentions `_method` in a value passes.
 */
export function bodyMethodProblem(method: string, contentType: string | undefined, body: Buffer): string | undefined {
  if (method !== "POST" || body.length === 0) return undefined;
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  const text = body.toString("latin1");
  const named = type === "application/x-www-form-urlencoded" ? text.split(/[&;]/).some((pair) => parameterName(pair).startsWith("_method"))
    : type === "multipart/form-data" ? /^content-disposition:[^\r\n]*;\s*name\s*=\s*"?\s*_method/im.test(text)
      : type === "application/json" || type.endsWith("+json") ? jsonFieldNames(body).some((name) => name.toLowerCase().startsWith("_method"))
        : false;
  return named ? "a _method field in the body is refused: the method of the request line is the one decided on" : undefined;
}

/** Top-level field names of a JSON object body; none for anything else. */
function jsonFieldNames(body: Buffer): string[] {
  try {
    const value: unknown = JSON.parse(body.toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? Object.keys(value) : [];
  } catch {
    return [];
  }
}
