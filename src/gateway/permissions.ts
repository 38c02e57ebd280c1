import { accessAllows } from "../model/validate";
import { ToolAccess } from "../model/types";
import type { GatewayConfig, GatewayTool } from "./config";

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Access a proxied call needs: EXECUTE for the tool's listed operations, READ for safe methods, WRITE otherwise. */
export function requiredAccess(tool: GatewayTool, method: string, path: string): ToolAccess {
  const execute = tool.executeOperations.some((op) => op.method === method && (op.prefix ? path.startsWith(op.path) : path === op.path));
  if (execute) return ToolAccess.EXECUTE;
  return READ_METHODS.has(method) ? ToolAccess.READ : ToolAccess.WRITE;
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
