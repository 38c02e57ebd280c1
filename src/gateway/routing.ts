import type { IncomingHttpHeaders } from "node:http";
import { NAME_PATTERN } from "../model/schema";
import { effectivePath } from "./effective-path";
import { methodProblem } from "./effective-method";

/** Where a request to the gateway goes. */
export type Route =
  | { readonly kind: "check" }
  /** `POST /v1/tasks/start` and `/v1/tasks/end`: the agent runtime's hooks open and end tasks. */
  | { readonly kind: "task"; readonly action: "start" | "end" }
  | {
    readonly kind: "tool";
    readonly tool: string;
    /** The path below the tool as received, which is what is forwarded. */
    readonly path: string;
    readonly query: string;
    /** The segments of that path as the upstream will read it (see `effectivePath`), which EXECUTE operations are matched on. */
    readonly effectiveSegments: ReadonlyArray<string>;
  }
  | { readonly kind: "bad"; readonly reason: string };

/** Prefix of proxied tool calls: `/tools/<tool>/<path below the tool's upstream>`. */
export const TOOLS_PREFIX = "/tools/";

/**
 * Routes a request target as sent on the wire, without decoding it first. A request whose
 * method or path an upstream could take from elsewhere than its request line (see
 * `methodProblem`) is refused, and so is a path below the tool that servers could read in more
 * than one way (see `effectivePath`): no spelling of `../other_tool` can leave the tool it names,
 * and none can hide an EXECUTE operation. What is forwarded is the target as received.
 */
export function routeRequest(method: string, target: string, headers: IncomingHttpHeaders = {}): Route {
  const queryAt = target.indexOf("?");
  const path = queryAt < 0 ? target : target.slice(0, queryAt);
  const query = queryAt < 0 ? "" : target.slice(queryAt);
  const refusedMethod = methodProblem(method, query, headers);
  if (refusedMethod !== undefined) return { kind: "bad", reason: refusedMethod };
  if (!target.startsWith("/")) return { kind: "bad", reason: "request target must be a path" };
  if (path === "/v1/check") return method === "POST" ? { kind: "check" } : { kind: "bad", reason: "the check endpoint takes POST" };
  if (path === "/v1/tasks/start" || path === "/v1/tasks/end") return method === "POST" ? { kind: "task", action: path === "/v1/tasks/start" ? "start" : "end" } : { kind: "bad", reason: "the task endpoints take POST" };
  if (!path.startsWith(TOOLS_PREFIX)) return { kind: "bad", reason: `unknown path; call tools under ${TOOLS_PREFIX}<tool>/ or POST /v1/check, /v1/tasks/start or /v1/tasks/end` };
  const toolAt = path.indexOf("/", TOOLS_PREFIX.length);
  const tool = path.slice(TOOLS_PREFIX.length, toolAt < 0 ? undefined : toolAt);
  if (!NAME_PATTERN.test(tool)) return { kind: "bad", reason: "not a tool name" };
  const below = toolAt < 0 ? "/" : path.slice(toolAt);
  const effective = effectivePath(below);
  if ("problem" in effective) return { kind: "bad", reason: effective.problem };
  return { kind: "tool", tool, path: below, query, effectiveSegments: effective.segments };
}
