import { Command, CommanderError } from "commander";
import { parseTaskId } from "../gateway/task-limits";
import { ToolAccess } from "../model/types";
import { processIo, type CliIo } from "./cli-io";

/**
 * Hermes blocks a call on exit code 2 (with or without JSON); every other failure of a hook with
 * empty stdout lets the call through even under `fail_closed: true`, so every failure here is 2.
 */
export const BLOCK = 2;

/** Largest hook input read; Hermes sends the call's arguments, a file's content included. */
const MAX_INPUT_BYTES = 8 * 1024 * 1024;

/** What one agent tool stands for: our tool and the access it needs. */
export interface HookTool {
  readonly tool: string;
  readonly access: ToolAccess;
}

const ACCESS = new Set<string>([ToolAccess.READ, ToolAccess.WRITE, ToolAccess.EXECUTE]);

/** Parses the `--tool agentTool=tool:ACCESS` arguments. */
export function parseHookTools(args: ReadonlyArray<string>): Map<string, HookTool> {
  const tools = new Map<string, HookTool>();
  for (const arg of args) {
    const match = /^([A-Za-z0-9_.:-]+)=([a-z][a-z0-9_-]*):([A-Z]+)$/.exec(arg);
    if (!match || !ACCESS.has(match[3])) throw new Error(`bad --tool "${arg}": write AGENT_TOOL=TOOL:READ|WRITE|EXECUTE, such as web_extract=web_fetch:READ`);
    tools.set(match[1], { tool: match[2], access: match[3] as ToolAccess });
  }
  return tools;
}

/**
 * Asks the gateway's check endpoint whether the caller's role may use `tool` at `access` now, as
 * one tool call of `task` when given. Returns undefined when allowed, else why not; never throws.
 */
export async function askGateway(gatewayUrl: string, { tool, access }: HookTool, timeoutMs: number, task?: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${gatewayUrl.replace(/\/+$/, "")}/v1/check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tool, access, ...(task === undefined ? {} : { task }) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status === 200 && answer.allowed === true) return undefined;
    const reason = typeof answer.message === "string" ? answer.message : typeof answer.error === "string" ? answer.error : `status ${response.status}`;
    return `the tool gateway refused ${access} on ${tool}: ${reason}`;
  } catch (error) {
    return `the tool gateway could not be asked about ${tool} (${(error as Error).name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : (error as Error).message})`;
  }
}

/** A Hermes hook input as read: its fields (none for JSON that is no object), or undefined when it is not JSON. */
function hermesInput(input: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(input);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return undefined;
  }
}

/** The Hermes task (one run of the agent, `extra.task_id`) a hook input belongs to, when it has one the gateway takes. */
function hermesTask(call: Record<string, unknown>): string | undefined {
  const extra = call.extra;
  const parsed = parseTaskId(typeof extra === "object" && extra !== null ? (extra as Record<string, unknown>).task_id : undefined);
  return "task" in parsed ? parsed.task : undefined;
}

/** The decision for one Hermes hook input: undefined to let the call through, else why it is blocked. */
export async function hermesHookDecision(input: string, tools: ReadonlyMap<string, HookTool>, gatewayUrl: string | undefined, timeoutMs: number): Promise<string | undefined> {
  const call = hermesInput(input);
  if (call === undefined) return "the hook input is not JSON";
  const { hook_event_name: event, tool_name: agentTool } = call;
  if (event !== "pre_tool_call" || typeof agentTool !== "string") return "the hook input is not a pre_tool_call with a tool_name";
  const tool = tools.get(agentTool);
  if (tool === undefined) return `"${agentTool.slice(0, 64)}" is not a tool of this role`;
  if (gatewayUrl === undefined || gatewayUrl === "") return "RAPIDCLAW_GATEWAY_URL is not set";
  return askGateway(gatewayUrl, tool, timeoutMs, hermesTask(call));
}

/**
 * Hermes' `on_session_end` (the end of one run, with its `task_id`): ends the task at the gateway,
 * so its slot of `maxConcurrentTasks` is free at once. Undefined when done, else what went wrong.
 */
export async function endHermesTask(input: string, gatewayUrl: string | undefined, timeoutMs: number): Promise<string | undefined> {
  const task = hermesTask(hermesInput(input) ?? {});
  if (task === undefined) return "the hook input names no task";
  if (gatewayUrl === undefined || gatewayUrl === "") return "RAPIDCLAW_GATEWAY_URL is not set";
  try {
    const response = await fetch(`${gatewayUrl.replace(/\/+$/, "")}/v1/tasks/end`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ task }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return response.status === 200 ? undefined : `the tool gateway answered status ${response.status}`;
  } catch (error) {
    return `the tool gateway could not be reached (${(error as Error).message})`;
  }
}

/** Reads a stream to its end, or rejects past `limit` bytes. */
function readAll(stream: NodeJS.ReadableStream, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) reject(new Error(`the hook input is larger than ${limit} bytes`));
      else chunks.push(Buffer.from(chunk));
    });
    stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    stream.on("error", reject);
  });
}

/**
 * Runs the Hermes hook: on `pre_tool_call`, exit 0 and no output to allow, exit 2 and
 * `{"action":"block","message"}` to block; on `on_session_end`, ends the run's task and exits 0
 * (the run is over: there is nothing to block), saying on stderr what failed.
 */
export async function runHermesHook(toolArgs: ReadonlyArray<string>, timeoutText: string, env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  let refusal: string | undefined;
  try {
    const timeoutMs = Number(timeoutText);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new Error(`bad --timeout-ms "${timeoutText}": write a number of milliseconds, such as 5000`);
    const tools = parseHookTools(toolArgs);
    const input = await readAll(io.stdin, MAX_INPUT_BYTES);
    if (hermesInput(input)?.hook_event_name === "on_session_end") {
      const problem = await endHermesTask(input, env.RAPIDCLAW_GATEWAY_URL, timeoutMs);
      if (problem !== undefined) io.err(`rapidclaw hook: task not ended: ${problem}\n`);
      io.exit(0);
      return;
    }
    refusal = await hermesHookDecision(input, tools, env.RAPIDCLAW_GATEWAY_URL, timeoutMs);
  } catch (error) {
    refusal = (error as Error).message;
  }
  if (refusal === undefined) { io.exit(0); return; }
  io.out(`${JSON.stringify({ action: "block", message: `Rapid Claw: ${refusal}` })}\n`);
  io.err(`rapidclaw hook: blocked: ${refusal}\n`);
  io.exit(BLOCK);
}

/** `rapidclaw hook <agent>`: tool hooks agents run before each tool call. */
export function hookCommand(): Command {
  const hook = new Command("hook")
    .description("Hooks agents run before each tool call: ask the tool gateway, block on refusal or failure")
    // Bad arguments must block too (set before the subcommands, which inherit it): commander's own exit code would be 1, which Hermes lets through.
    .exitOverride((error: CommanderError) => {
      throw error.exitCode === 0 ? error : new CommanderError(BLOCK, error.code, error.message);
    });
  hook
    .command("hermes")
    .description("Hermes Agent hook: on pre_tool_call reads the call on stdin, asks RAPIDCLAW_GATEWAY_URL's /v1/check (with the run's task id), exits 2 with a block message unless allowed; on on_session_end ends the run's task")
    .option("--tool <agentTool=tool:ACCESS>", "a Hermes tool of the role, the tool it stands for and the access it needs; repeatable", (arg: string, all: string[]) => [...all, arg], [] as string[])
    .option("--timeout-ms <ms>", "longest wait for the gateway", "5000")
    .action((options: { tool: string[]; timeoutMs: string }) => runHermesHook(options.tool, options.timeoutMs, process.env, processIo));
  return hook;
}
