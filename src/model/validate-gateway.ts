import { isIP } from "node:net";
import { parseCidr, type Network } from "./addresses";
import { parseHostPattern } from "./hosts";
import { parseOperationPath } from "./operation-path";
import { unknownName } from "./suggest";
import { KeyDelivery, ToolAccess } from "./types";

type Add = (path: ReadonlyArray<PropertyKey>, message: string) => void;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Placeholder of the key in `keyHeader.format`. */
export const KEY_PLACEHOLDER = "{key}";

/** Why a tool's upstream URL is refused, if it is. */
export function upstreamProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a URL; write one such as https://api.example.com`;
  }
  if (url.protocol !== "https:") return `"${text}" is not https; the gateway forwards keys only over TLS, so write https://${url.host}${url.pathname === "/" ? "" : url.pathname}`;
  if (url.username !== "" || url.password !== "") return `"${text}" carries a user name or password; remove it (the gateway injects the tool's key from keyHeader)`;
  if (url.search !== "" || url.hash !== "" || /[?#]/.test(text)) return `"${text}" has a query or fragment; write the base URL only`;
  const host = parseHostPattern(url.hostname);
  if (typeof host === "string") return host;
  if (host.wildcard) return `"${text}" has a wildcard host; an upstream is one host`;
  return undefined;
}

/** Tool options of the gateway: upstream, key header, EXECUTE operations. */
export function checkToolGatewayOptions(name: string, tool: Record<string, unknown>, add: Add): void {
  const path = ["tools", name];
  if (typeof tool.upstream === "string") {
    const problem = upstreamProblem(tool.upstream);
    if (problem) add([...path, "upstream"], problem);
  }
  if (isRecord(tool.key) && tool.key.delivery === KeyDelivery.GATEWAY && tool.upstream === undefined) {
    add([...path, "key", "delivery"], `delivery "gateway" needs the tool's upstream, where the gateway forwards calls with the key; add tools.${name}.upstream (such as https://api.example.com) or write delivery: agent`);
  }
  if (isRecord(tool.key) && tool.key.delivery === KeyDelivery.AGENT && tool.upstream !== undefined) {
    add([...path, "key", "delivery"], `delivery "agent" with an upstream: the gateway fronts the tool and strips every credential agents send, so the key must be the gateway's; remove delivery (or remove upstream to give the key to agents)`);
  }
  if (isRecord(tool.keyHeader)) {
    if (tool.key === undefined) add([...path, "keyHeader"], `keyHeader is set but tool "${name}" has no key; add key: {} or remove keyHeader`);
    const format = tool.keyHeader.format;
    if (typeof format === "string" && format.split(KEY_PLACEHOLDER).length !== 2) {
      add([...path, "keyHeader", "format"], `format must hold "${KEY_PLACEHOLDER}" exactly once, e.g. "Bearer ${KEY_PLACEHOLDER}"`);
    } else if (typeof format === "string" && /[^\t\x20-\x7e]/.test(format)) {
      add([...path, "keyHeader", "format"], "format holds a control or non-ASCII character, which no header value may carry; remove it");
    }
  }
  if (Array.isArray(tool.executeOperations)) {
    tool.executeOperations.forEach((operation, i) => {
      if (!isRecord(operation) || typeof operation.path !== "string") return;
      const parsed = parseOperationPath(operation.path);
      if (typeof parsed === "string") add([...path, "executeOperations", i, "path"], parsed);
    });
  }
  if (tool.tokenLimit !== undefined && tool.upstream === undefined) {
    add([...path, "tokenLimit"], `a token budget is counted from the answers the gateway forwards; add tools.${name}.upstream (such as https://api.anthropic.com) or remove tokenLimit`);
  }
  if (isRecord(tool.mcp)) checkMcpTools(name, tool, tool.mcp, add);
}

/** MCP tool names as the MCP specification allows them. */
const MCP_TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

function checkMcpTools(name: string, tool: Record<string, unknown>, mcp: Record<string, unknown>, add: Add): void {
  const path = ["tools", name, "mcp"];
  if (tool.upstream === undefined) add(path, `an MCP server is reached at the tool's upstream; add tools.${name}.upstream (the server's Streamable HTTP endpoint, such as https://mcp.example.com/mcp)`);
  if (tool.executeOperations !== undefined) add([...path], `an MCP tool's calls are decided per MCP tool, not by HTTP method and path; remove tools.${name}.executeOperations and list the MCP tools' access in mcp.tools`);
  if (!isRecord(mcp.tools)) return;
  const listed = Object.keys(mcp.tools);
  for (const mcpTool of Object.keys(isRecord(mcp.rateLimits) ? mcp.rateLimits : {})) {
    if (!listed.includes(mcpTool)) add([...path, "rateLimits", mcpTool], `${unknownName("MCP tool", mcpTool, listed)}; a limit applies to an MCP tool listed in mcp.tools`);
  }
  for (const [mcpTool, access] of Object.entries(mcp.tools)) {
    if (!MCP_TOOL_NAME.test(mcpTool)) add([...path, "tools", mcpTool], `"${mcpTool}" is not an MCP tool name (1 to 128 letters, digits, _, - and .)`);
    if (access === ToolAccess.DENY) add([...path, "tools", mcpTool], `DENY hides the MCP tool from every role, as leaving it out does; remove "${mcpTool}"`);
  }
}

/** Gateway options: listeners and source networks name known roles, do not collide or overlap. */
export function checkGatewayOptions(gateway: unknown, roleNames: string[], add: Add): void {
  if (!isRecord(gateway)) return;
  const checkRole = (role: unknown, path: PropertyKey[]) => {
    if (typeof role === "string" && !roleNames.includes(role)) add(path, unknownName("role", role, roleNames));
  };
  const endpoints = new Map<string, number>();
  (Array.isArray(gateway.listeners) ? gateway.listeners : []).forEach((listener, i) => {
    if (!isRecord(listener)) return;
    const path = ["gateway", "listeners", i];
    checkRole(listener.role, [...path, "role"]);
    if (typeof listener.address === "string" && isIP(listener.address) === 0) {
      add([...path, "address"], `"${listener.address}" is not an IP address; write the local address to listen on, such as 10.0.0.2`);
    }
    const endpoint = `${String(listener.address ?? "")}:${String(listener.port)}`;
    const other = endpoints.get(endpoint);
    if (other !== undefined) add([...path, "port"], `listeners[${other}] already listens on ${endpoint.replace(/^:/, "port ")}; give each listener its own address or port`);
    else endpoints.set(endpoint, i);
  });
  const networks: [Network, string, number][] = [];
  (Array.isArray(gateway.sourceNetworks) ? gateway.sourceNetworks : []).forEach((entry, i) => {
    if (!isRecord(entry)) return;
    const path = ["gateway", "sourceNetworks", i];
    checkRole(entry.role, [...path, "role"]);
    if (typeof entry.cidr !== "string") return;
    const network = parseCidr(entry.cidr);
    if (typeof network === "string") { add([...path, "cidr"], network); return; }
    const overlap = networks.find(([other]) => other.version === network.version && overlaps(other, network));
    if (overlap && overlap[1] !== entry.role) {
      add([...path, "cidr"], `${network.text} overlaps sourceNetworks[${overlap[2]}] (${overlap[0].text}) of role "${overlap[1]}"; a caller must map to one role, so make the networks disjoint`);
    }
    networks.push([network, String(entry.role), i]);
  });
  if (isRecord(gateway.redis) && typeof gateway.redis.url === "string") {
    const problem = redisUrlProblem(gateway.redis.url);
    if (problem) add(["gateway", "redis", "url"], problem);
  }
  const listeners = Array.isArray(gateway.listeners) ? gateway.listeners.filter(isRecord) : [];
  if (listeners.some((l) => l.role === undefined) && networks.length === 0) {
    add(["gateway", "sourceNetworks"], "a listener has no role, so callers are told apart by source address, but sourceNetworks is empty; list each role's network or give the listener a role");
  }
}

/** Why the URL of an existing Redis is refused, if it is. */
export function redisUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a URL; write one such as rediss://redis.example.com:6380`;
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") return `"${text}" is not a Redis URL; write redis://host:port, or rediss://host:port for TLS`;
  if (url.hostname === "") return `"${text}" names no host; write redis://host:port`;
  if (url.username !== "" || url.password !== "") return `"${text}" carries a user name or password, which would land in the synthesized output; remove them and name a Vault secret in gateway.redis.credentialsSecret`;
  if (url.search !== "" || url.hash !== "" || /[?#]/.test(text)) return `"${text}" has a query or fragment; write redis://host:port`;
  if (!/^\/?([0-9]{1,2})?$/.test(url.pathname)) return `"${text}": the path can only be a database number, such as /0`;
  if (/\$\{|%\{/.test(text)) return `"${text}" holds "\${" or "%{", which Terraform would evaluate; write the URL plainly`;
  return undefined;
}

function overlaps(a: Network, b: Network): boolean {
  const bits = a.version === 4 ? 32 : 128;
  const shift = BigInt(bits - Math.min(a.prefix, b.prefix));
  return a.base >> shift === b.base >> shift;
}
