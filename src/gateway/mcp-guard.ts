import { accessAllows } from "../model/validate";
import { ToolAccess } from "../model/types";

/** A JSON-RPC error answer. */
export interface JsonRpcError {
  readonly jsonrpc: "2.0";
  readonly id: string | number | null;
  readonly error: { readonly code: number; readonly message: string; readonly data?: Record<string, unknown> };
}

/** JSON-RPC's own codes, and the one used for refused access (in the range left to servers). */
export const JSON_RPC_PARSE_ERROR = -32700;
export const JSON_RPC_INVALID_REQUEST = -32600;
export const JSON_RPC_INVALID_PARAMS = -32602;
export const MCP_PERMISSION_DENIED = -32001;

/** What the gateway does with one request to an MCP server. */
export type McpDecision =
  | {
    readonly allowed: true;
    /** The JSON-RPC method, or undefined for GET, DELETE and posted responses. */
    readonly rpcMethod?: string;
    /** Set for `tools/list`: the id of the request whose answer must be filtered. */
    readonly toolsListId?: string | number;
    /** The MCP tool a `tools/call` calls. */
    readonly mcpTool?: string;
  }
  | {
    readonly allowed: false;
    /** 200 for a refused request (its answer is the error), 4xx when the HTTP request itself is refused. */
    readonly status: number;
    readonly body: JsonRpcError;
    /** `permission_denied` or `bad_request`. */
    readonly event: "permission_denied" | "bad_request";
    readonly details: Readonly<Record<string, string | null>>;
  };

/** Longest MCP tool name written into an event or error (an agent chooses it). */
const MAX_NAME_IN_EVENT = 128;

/**
 * Decides one HTTP request to an MCP server (Streamable HTTP transport) for a role holding
 * `granted` on the tool. POST carries one JSON-RPC message: `tools/call` needs the access the
 * tool's `mcp.tools` lists for the MCP tool it names (an unlisted one is refused as unknown, so
 * it stays hidden); any other method, a notification or a posted response needs READ. GET (the
 * server's stream) and DELETE (ending the session) need READ. Batches are refused: the current
 * protocol version has none, and one message per POST keeps one decision per call.
 */
export function decideMcpRequest(mcpTools: Readonly<Record<string, ToolAccess>>, granted: ToolAccess, httpMethod: string, body: Buffer): McpDecision {
  if (httpMethod === "GET" || httpMethod === "DELETE") {
    return accessAllows(granted, ToolAccess.READ) ? { allowed: true } : denied(null, 403, undefined, ToolAccess.READ, granted, httpMethod);
  }
  if (httpMethod !== "POST") return invalid(405, null, JSON_RPC_INVALID_REQUEST, `the MCP endpoint takes POST, GET and DELETE, not ${httpMethod}`);
  let message: unknown;
  try {
    message = JSON.parse(body.toString("utf8"));
  } catch {
    return invalid(400, null, JSON_RPC_PARSE_ERROR, "the body is not JSON");
  }
  if (Array.isArray(message)) return invalid(400, null, JSON_RPC_INVALID_REQUEST, "JSON-RPC batches are refused: send one message per POST");
  if (typeof message !== "object" || message === null || (message as { jsonrpc?: unknown }).jsonrpc !== "2.0") {
    return invalid(400, null, JSON_RPC_INVALID_REQUEST, "the body is not a JSON-RPC 2.0 message");
  }
  const { id, method, params } = message as { id?: unknown; method?: unknown; params?: unknown };
  const requestId = typeof id === "string" || typeof id === "number" ? id : undefined;
  // A refused request is answered with its error (HTTP 200); a refused notification or response has no answer, so the POST itself is refused.
  const status = requestId === undefined ? 403 : 200;
  if (typeof method !== "string") {
    return accessAllows(granted, ToolAccess.READ) ? { allowed: true } : denied(requestId ?? null, 403, undefined, ToolAccess.READ, granted, "response");
  }
  if (method === "tools/call") {
    const name = typeof params === "object" && params !== null ? (params as { name?: unknown }).name : undefined;
    if (typeof name !== "string") return invalid(requestId === undefined ? 400 : 200, requestId ?? null, JSON_RPC_INVALID_PARAMS, "tools/call needs params.name");
    const required = Object.hasOwn(mcpTools, name) ? mcpTools[name] : undefined;
    if (required === undefined || !accessAllows(granted, required)) return denied(requestId ?? null, status, name.slice(0, MAX_NAME_IN_EVENT), required, granted, method);
    return { allowed: true, rpcMethod: method, mcpTool: name };
  }
  if (!accessAllows(granted, ToolAccess.READ)) return denied(requestId ?? null, status, undefined, ToolAccess.READ, granted, method.slice(0, MAX_NAME_IN_EVENT));
  return { allowed: true, rpcMethod: method, toolsListId: method === "tools/list" ? requestId : undefined };
}

/** The MCP tools a role holding `granted` sees. */
export function visibleMcpTools(mcpTools: Readonly<Record<string, ToolAccess>>, granted: ToolAccess): ReadonlySet<string> {
  return new Set(Object.entries(mcpTools).filter(([, required]) => accessAllows(granted, required)).map(([name]) => name));
}

function denied(id: string | number | null, status: number, mcpTool: string | undefined, required: ToolAccess | undefined, granted: ToolAccess, rpcMethod: string): McpDecision {
  // An MCP tool not listed is answered as the server answers an unknown tool, so the role cannot tell it exists.
  const error = mcpTool !== undefined && required === undefined
    ? { code: JSON_RPC_INVALID_PARAMS, message: `Unknown tool: ${mcpTool}` }
    : { code: MCP_PERMISSION_DENIED, message: `permission denied: ${mcpTool === undefined ? rpcMethod : `tool ${mcpTool}`} needs ${required} access, the role has ${granted}`, data: { required, granted } };
  return {
    allowed: false,
    status,
    body: { jsonrpc: "2.0", id, error },
    event: "permission_denied",
    details: { mcp_method: rpcMethod, mcp_tool: mcpTool ?? null, required: required ?? "listed MCP tool", granted },
  };
}

function invalid(status: number, id: string | number | null, code: number, message: string): McpDecision {
  return { allowed: false, status, body: { jsonrpc: "2.0", id, error: { code, message } }, event: "bad_request", details: { reason: message } };
}
