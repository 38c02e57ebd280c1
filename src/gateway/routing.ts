import { NAME_PATTERN } from "../model/schema";

/** Where a request to the gateway goes. */
export type Route =
  | { readonly kind: "check" }
  | { readonly kind: "tool"; readonly tool: string; readonly path: string; readonly query: string }
  | { readonly kind: "bad"; readonly reason: string };

/** Prefix of proxied tool calls: `/tools/<tool>/<path below the tool's upstream>`. */
export const TOOLS_PREFIX = "/tools/";

/**
 * Routes a request target as sent on the wire, without decoding it first: a target with a dot
 * segment, an encoded slash, backslash or dot, or an empty segment is refused, so no spelling of
 * `../other_tool` can leave the tool it names. What is forwarded is the target as received.
 */
export function routeRequest(method: string, target: string): Route {
  if (!target.startsWith("/")) return { kind: "bad", reason: "request target must be a path" };
  const queryAt = target.indexOf("?");
  const path = queryAt < 0 ? target : target.slice(0, queryAt);
  const query = queryAt < 0 ? "" : target.slice(queryAt);
  if (path === "/v1/check") return method === "POST" ? { kind: "check" } : { kind: "bad", reason: "the check endpoint takes POST" };
  if (!path.startsWith(TOOLS_PREFIX)) return { kind: "bad", reason: `unknown path; call tools under ${TOOLS_PREFIX}<tool>/ or POST /v1/check` };
  if (/%(2e|2f|5c|00)|\\|#/i.test(path)) return { kind: "bad", reason: "encoded dot, slash, backslash or NUL in the path" };
  const segments = path.slice(TOOLS_PREFIX.length).split("/");
  const tool = segments[0];
  if (!NAME_PATTERN.test(tool)) return { kind: "bad", reason: "not a tool name" };
  const rest = segments.slice(1);
  if (rest.some((segment, i) => segment === "." || segment === ".." || (segment === "" && i < rest.length - 1))) {
    return { kind: "bad", reason: "dot or empty segment in the path" };
  }
  return { kind: "tool", tool, path: rest.length === 0 ? "/" : `/${rest.join("/")}`, query };
}
