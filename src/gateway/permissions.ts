import { accessAllows } from "../model/validate";
import { ToolAccess } from "../model/types";
import type { ExecuteOperation, GatewayConfig, GatewayTool } from "./config";

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Access a proxied call needs: EXECUTE when one of the tool's operations matches the method (a
 * GET operation also HEAD, which servers answer with the GET handler) and the effective path, or
 * that path without a format suffix on its last segment (`/run.json`, which Rails and Spring
 * route as `/run`); else READ for safe methods, WRITE for others.
 */
export function requiredAccess(tool: GatewayTool, method: string, effectiveSegments: ReadonlyArray<string>): ToolAccess {
  const readings = [effectiveSegments, withoutFormatSuffix(effectiveSegments)];
  const execute = tool.executeOperations.some((op) => (op.method === method || (op.method === "GET" && method === "HEAD")) && readings.some((segments) => operationMatches(op, segments)));
  if (execute) return ToolAccess.EXECUTE;
  return READ_METHODS.has(method) ? ToolAccess.READ : ToolAccess.WRITE;
}

function operationMatches(op: ExecuteOperation, segments: ReadonlyArray<string>): boolean {
  if (op.below ? segments.length < op.segments.length : segments.length !== op.segments.length) return false;
  return op.segments.every((literal, i) => literal === undefined || literal === segments[i]);
}

function withoutFormatSuffix(segments: ReadonlyArray<string>): ReadonlyArray<string> {
  const last = segments[segments.length - 1] ?? "";
  const dot = last.indexOf(".");
  return dot > 0 ? [...segments.slice(0, -1), last.slice(0, dot)] : segments;
}

/** The permission decision for a caller of `role` wanting `required` on `tool`. */
export type PermissionDecision =
  | { readonly allowed: true; readonly tool: GatewayTool }
  | { readonly allowed: false; readonly reason: "unknown_tool" }
  | { readonly allowed: false; readonly reason: "permission_denied"; readonly tool: GatewayTool; readonly granted: ToolAccess };

/** Whether the role's access to the tool is at least `required`; unknown tools and unlisted ones are refused. */
export function decidePermission(config: GatewayConfig, role: string, toolName: string, required: ToolAccess): PermissionDecision {
  const tool = config.tools.get(toolName);
  if (tool === undefined) return { allowed: false, reason: "unknown_tool" };
  const granted = config.roles.get(role)?.get(toolName) ?? ToolAccess.DENY;
  return accessAllows(granted, required) ? { allowed: true, tool } : { allowed: false, reason: "permission_denied", tool, granted };
}
