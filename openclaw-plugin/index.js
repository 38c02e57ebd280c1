// Rapid Claw's OpenClaw plugin: before every tool call, ask the tool gateway's check endpoint
// whether the agent's role may make it. Plain JavaScript with no dependencies, so it loads as is.
// Fails closed: a refusal, an error, a timeout or a tool outside the role's map blocks the call.
// With `tasks` (a role with task limits), each run is a task at the gateway: before_agent_run
// opens it (refused past maxConcurrentTasks: the run is blocked), every check carries its run id,
// and agent_end ends it.

const DEFAULT_TIMEOUT_MS = 5000;

// OpenClaw's tool search (on by default since 2026.9): the model finds tools with tool_search and
// tool_describe and runs one with tool_call, and OpenClaw asks before_tool_call again for the tool
// tool_call runs, under that tool's own name. The controls run nothing themselves, so they pass,
// and the tool they run is checked like any other.
const TOOL_SEARCH_CONTROLS = new Set(["tool_search", "tool_describe", "tool_call"]);

// Task ids the gateway takes (src/gateway/task-limits.ts); a run id outside them is sent as no task.
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The run a hook belongs to, when the config asks for tasks and the id is one the gateway takes. */
function taskOf(config, runId) {
  return config.tasks === true && typeof runId === "string" && TASK_ID.test(runId) ? runId : undefined;
}

/** POSTs `body` to the gateway's `path`: the answer's status and JSON, or throws (no URL, a network error, the timeout). */
async function post(config, path, body, abortSignal) {
  const gatewayUrl = config.gatewayUrl ?? process.env.RAPIDCLAW_GATEWAY_URL;
  if (!gatewayUrl) throw new Error("no gatewayUrl in the plugin config and RAPIDCLAW_GATEWAY_URL is not set");
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signals = [AbortSignal.timeout(timeoutMs), ...(abortSignal ? [abortSignal] : [])];
  try {
    const response = await fetch(`${gatewayUrl.replace(/\/+$/, "")}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.any(signals),
    });
    return { status: response.status, answer: await response.json().catch(() => ({})) };
  } catch (error) {
    throw new Error(error.name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : error.message);
  }
}

/** Why the call is refused, or undefined when the gateway allows it. */
async function refusal(config, toolName, task, abortSignal) {
  const entry = Object.hasOwn(config.tools ?? {}, toolName) ? config.tools[toolName] : undefined;
  if (entry === undefined) return `"${String(toolName).slice(0, 64)}" is not a tool of this role`;
  try {
    const { status, answer } = await post(config, "/v1/check", { tool: entry.tool, access: entry.access, ...(task === undefined ? {} : { task }) }, abortSignal);
    if (status === 200 && answer.allowed === true) return undefined;
    return `the tool gateway refused ${entry.access} on ${entry.tool}: ${answer.message ?? answer.error ?? `status ${status}`}`;
  } catch (error) {
    return `the tool gateway could not be asked about ${entry.tool} (${error.message})`;
  }
}

/** Why a run may not start (its task refused: too many open), or undefined when its task is open. */
async function taskRefusal(config, task) {
  try {
    const { status, answer } = await post(config, "/v1/tasks/start", { task });
    return status === 200 ? undefined : `the tool gateway refused to start this run: ${answer.message ?? answer.error ?? `status ${status}`}`;
  } catch (error) {
    return `the tool gateway could not be asked to start this run (${error.message})`;
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
      const reason = await refusal(config, event.toolName, taskOf(config, event.runId ?? ctx?.runId), ctx?.abortSignal);
      return reason === undefined ? undefined : { block: true, blockReason: `Rapid Claw: ${reason}` };
    });
    if (config.tasks !== true) return;
    // A gate: OpenClaw blocks the run on a block decision, and on no decision at all.
    api.on("before_agent_run", async (_event, ctx) => {
      const task = taskOf(config, ctx?.runId);
      const reason = task === undefined ? undefined : await taskRefusal(config, task);
      return reason === undefined ? { outcome: "pass" } : { outcome: "block", reason, message: `Rapid Claw: ${reason}` };
    });
    api.on("agent_end", async (event, ctx) => {
      const task = taskOf(config, event?.runId ?? ctx?.runId);
      // The run is over: a task not ended here frees its slot when its lease lapses.
      if (task !== undefined) await post(config, "/v1/tasks/end", { task }).catch(() => undefined);
    });
  },
};
