// Rapid Claw's OpenClaw plugin: before every tool call, ask the tool gateway's check endpoint
// whether the agent's role may make it. Plain JavaScript with no dependencies, so it loads as is.
// Fails closed: a refusal, an error, a timeout or a tool outside the role's map blocks the call.

const DEFAULT_TIMEOUT_MS = 5000;

// OpenClaw's tool search (on by default since 2026.9): the model finds tools with tool_search and
// tool_describe and runs one with tool_call, and OpenClaw asks before_tool_call again for the tool
// tool_call runs, under that tool's own name. The controls run nothing themselves, so they pass,
// and the tool they run is checked like any other.
const TOOL_SEARCH_CONTROLS = new Set(["tool_search", "tool_describe", "tool_call"]);

/** Why the call is refused, or undefined when the gateway allows it. */
async function refusal(config, toolName, abortSignal) {
  const entry = Object.hasOwn(config.tools ?? {}, toolName) ? config.tools[toolName] : undefined;
  if (entry === undefined) return `"${String(toolName).slice(0, 64)}" is not a tool of this role`;
  const gatewayUrl = config.gatewayUrl ?? process.env.RAPIDCLAW_GATEWAY_URL;
  if (!gatewayUrl) return "no gatewayUrl in the plugin config and RAPIDCLAW_GATEWAY_URL is not set";
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signals = [AbortSignal.timeout(timeoutMs), ...(abortSignal ? [abortSignal] : [])];
  try {
    const response = await fetch(`${gatewayUrl.replace(/\/+$/, "")}/v1/check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tool: entry.tool, access: entry.access }),
      signal: AbortSignal.any(signals),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 200 && answer.allowed === true) return undefined;
    return `the tool gateway refused ${entry.access} on ${entry.tool}: ${answer.message ?? answer.error ?? `status ${response.status}`}`;
  } catch (error) {
    return `the tool gateway could not be asked about ${entry.tool} (${error.name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : error.message})`;
  }
}

export default {
  id: "rapidclaw-gateway-check",
  name: "Rapid Claw gateway check",
  description: "Asks the Rapid Claw tool gateway before every tool call and blocks what the agent's role may not do.",
  register(api) {
    const config = api.pluginConfig ?? {};
    api.on("before_tool_call", async (event, ctx) => {
      if (TOOL_SEARCH_CONTROLS.has(event.toolName)) return undefined;
      const reason = await refusal(config, event.toolName, ctx?.abortSignal);
      return reason === undefined ? undefined : { block: true, blockReason: `Rapid Claw: ${reason}` };
    });
  },
};
