import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { ToolAccess } from "../model/types";
import type { GatewayConfig, GatewayListener, GatewayTool } from "./config";
import { bodyMethodProblem } from "./effective-method";
import { enforcedRefusal, type AuditableRefusal } from "./enforcement";
import { firewallEvent, type EventSink, type GatewayEventType } from "./events";
import type { CallerIdentity } from "./identity";
import type { AnswerStageFor } from "./answer-stage";
import type { KeyStore } from "./key-store";
import { decideMcpRequest, visibleMcpTools } from "./mcp-guard";
import { toolsListFilter, UnreadableToolsList } from "./mcp-tools-list";
import type { GatewayMetrics } from "./metrics";
import { decidePermission, requiredAccess } from "./permissions";
import { LimiterUnavailableError, type RedisLimiter } from "./redis-limiter";
import { RedisTasks, type TaskAdmission } from "./redis-tasks";
import { RedisTokenBudget } from "./redis-token-budget";
import { routeRequest } from "./routing";
import { parseTaskId, ROLE_TASK_TOKENS, TASK_HEADER, taskRefusalAnswer } from "./task-limits";
import { tokenMeter } from "./token-meter";
import { KeyScrubber, KeySpellings } from "./key-scrubber";
import { UpstreamCall, type UpstreamCallOutcome } from "./upstream-call";
import { UpstreamPools, type UpstreamPoolOptions } from "./upstream-pool";
import { ProxyRefusedError } from "./upstream-proxy";

export type { UpstreamAddress } from "./upstream-pool";

/** What the request handler works with, and how it reaches upstreams. */
export interface ToolCallHandlerOptions extends UpstreamPoolOptions {
  readonly config: GatewayConfig;
  readonly identity: CallerIdentity;
  readonly limiter: RedisLimiter;
  readonly keys: KeyStore;
  readonly events: EventSink;
  readonly metrics: GatewayMetrics;
  /** Largest request body forwarded, in bytes. */
  readonly maxBodyBytes: number;
  /** Calls of one role forwarded and not yet answered, at most; more are refused with 503 `role_busy`. */
  readonly maxCallsInFlightPerRole: number;
}

/** Largest answer held to filter a `tools/list` or read a model's usage (JSON whole, SSE per event). */
const MAX_INSPECTED_ANSWER_BYTES = 4 * 1024 * 1024;

/** Largest body of a check request. */
const MAX_CHECK_BODY_BYTES = 4_096;

/**
 * Headers never forwarded upstream: hop-by-hop ones, every credential an agent might send, and
 * forwarding headers, with which an agent would tell the upstream a client address, host or
 * scheme of its choosing, and `accept-encoding`, which the gateway sets to `identity` so that it
 * can see a reflected key.
 */
const DROPPED_REQUEST_HEADERS = new Set([
  "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect",
  "authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "accept-encoding",
  "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-forwarded-prefix", "x-forwarded-server", "x-real-ip", "via",
  TASK_HEADER,
]);

/** Methods sent without a body (and without `content-length: 0`) when the agent sent none. */
const BODYLESS_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const ACCESS_VALUES = new Set<string>([ToolAccess.READ, ToolAccess.WRITE, ToolAccess.EXECUTE]);

class BodyTooLarge extends Error {}

/**
 * Where a check left a call: it passed, it was refused (and answered), or shadow mode let it
 * through with a `would_deny` event. A shadowed call skips the later checks, as enforcement
 * would have stopped there, and counts in no window.
 */
type Verdict = "pass" | "refused" | "shadowed";

/** What a call asked for, written into the events of its limits. */
type CallDetails = { readonly method: string; readonly path?: string; readonly required: ToolAccess };

/**
 * Handles calls on the agents' listeners: who is calling (from the listener and source address),
 * where to (the route), whether the role may (RBAC), whether the limit allows (Redis), then the
 * key is injected and the call forwarded, or the decision answered for `POST /v1/check`.
 */
export class ToolCallHandler {
  private readonly pools: UpstreamPools;
  /** Forwarded calls not yet answered, by role. */
  private readonly inFlight = new Map<string, number>();
  /** The spellings of each tool's key, computed once per key value (keys rotate rarely). */
  private readonly spellingsByTool = new Map<string, { readonly key: string; readonly spellings: KeySpellings }>();

  /** What becomes of forwarded calls: one object, so a call allocates no callbacks of its own. */
  private readonly outcome: UpstreamCallOutcome = {
    onResponse: (call) => this.options.metrics.observeUpstreamDuration(call.tool, Number(process.hrtime.bigint() - call.started) / 1e9),
    onFailure: (call, error: NodeJS.ErrnoException) => {
      // Only the error code is reported: messages of TLS and socket errors are not ours to vouch for.
      // The call was already counted as an allowed decision, so this is an event only.
      const proxyStatus: Record<string, number> = error instanceof ProxyRefusedError ? { proxy_status: error.proxyStatus } : {};
      this.options.events.emit(firewallEvent("upstream_error", call.tool, call.role, { code: error.code ?? "error", ...proxyStatus }));
      // A refused upstream header may have been set before Node refused it.
      for (const name of call.res.getHeaderNames()) call.res.removeHeader(name);
      sendJson(call.res, 502, { error: "upstream_error", tool: call.tool, message: "the tool's upstream could not be reached or gave an answer the gateway does not pass on" });
    },
    onEnd: (call, scrubbed) => {
      if (scrubbed > 0) this.options.events.emit(firewallEvent("key_reflected", call.tool, call.role, { scrubbed }));
      // A tools/list answer the filter could not read was cut off rather than passed on unfiltered.
      if (call.cutBy instanceof UnreadableToolsList) this.options.events.emit(firewallEvent("upstream_error", call.tool, call.role, { code: "mcp_answer_unreadable", reason: call.cutBy.message }));
    },
  };

  private readonly tokenBudget: RedisTokenBudget;
  private readonly tasks: RedisTasks;

  constructor(private readonly options: ToolCallHandlerOptions) {
    this.pools = new UpstreamPools(options);
    this.tokenBudget = new RedisTokenBudget(options.limiter);
    this.tasks = new RedisTasks(options.limiter);
  }

  /** The role of a connection, or undefined for an unknown caller. */
  roleOf(listener: GatewayListener, remoteAddress: string | undefined): string | undefined {
    return this.options.identity.roleOf(listener, remoteAddress);
  }

  async handle(listener: GatewayListener, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const role = this.roleOf(listener, req.socket.remoteAddress);
    if (role === undefined) {
      this.refuse(res, 403, "unknown_caller", null, null, { remote_address: req.socket.remoteAddress ?? null, local_port: req.socket.localPort ?? null }, {
        error: "unknown_caller",
        message: "this address and port belong to no role",
      });
      return;
    }
    const method = req.method ?? "";
    const route = routeRequest(method, req.url ?? "", req.headers);
    if (route.kind === "bad") {
      this.refuse(res, 400, "bad_request", null, role, { reason: route.reason, method }, { error: "bad_request", message: route.reason });
      return;
    }
    if (route.kind === "check") {
      await this.check(role, req, res);
      return;
    }
    if (route.kind === "task") {
      await this.taskEndpoint(route.action, role, req, res);
      return;
    }
    const tool = this.options.config.tools.get(route.tool);
    if (tool === undefined || tool.upstream === undefined) {
      const message = tool === undefined ? "no such tool" : "this tool has no upstream; agents ask POST /v1/check before using it";
      this.refuse(res, 404, "unknown_tool", route.tool, role, { method }, { error: "unknown_tool", tool: route.tool, message });
      return;
    }
    if (tool.mcpTools !== undefined && route.path !== "/") {
      this.refuse(res, 404, "bad_request", tool.name, role, { reason: "path below an MCP endpoint", method }, { error: "bad_request", message: `an MCP server is called at /tools/${tool.name}/ only` });
      return;
    }
    const taskId = parseTaskId(req.headers[TASK_HEADER]);
    if ("problem" in taskId) {
      this.refuse(res, 400, "bad_request", tool.name, role, { reason: `bad ${TASK_HEADER}`, method }, { error: "bad_request", message: `${TASK_HEADER}: ${taskId.problem}` });
      return;
    }
    const { task } = taskId;
    // An MCP server's requests are decided per JSON-RPC message, once the body is read.
    const required = tool.mcpTools === undefined ? requiredAccess(tool, method, route.effectiveSegments) : undefined;
    let verdict: Verdict = required === undefined ? "pass" : this.permitted(role, tool.name, required, res, { method, path: route.path });
    if (verdict === "refused") return;
    const busy = this.inFlight.get(role) ?? 0;
    if (busy >= this.options.maxCallsInFlightPerRole) {
      this.refuse(res, 503, "role_busy", tool.name, role, { in_flight: busy }, {
        error: "role_busy",
        tool: tool.name,
        message: `role ${role} has ${busy} calls in flight, the most it may; retry when one is answered`,
      }, false, { "retry-after": "1" });
      return;
    }
    this.inFlight.set(role, busy + 1);
    let call: UpstreamCall | undefined;
    res.once("close", () => {
      this.inFlight.set(role, (this.inFlight.get(role) ?? 1) - 1);
      call?.cancel();
    });
    let body: Buffer;
    try {
      body = await readBody(req, this.options.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        this.refuse(res, 413, "bad_request", tool.name, role, { reason: "body too large" }, { error: "bad_request", message: `body larger than ${this.options.maxBodyBytes} bytes` }, true);
      } else res.destroy();
      return;
    }
    const bodyProblem = bodyMethodProblem(method, req.headers["content-type"], body);
    if (bodyProblem !== undefined) {
      this.refuse(res, 400, "bad_request", tool.name, role, { reason: bodyProblem, method }, { error: "bad_request", message: bodyProblem });
      return;
    }
    const mcp = tool.mcpTools === undefined ? {} : this.mcpRequest(role, tool, method, body, res);
    if (mcp === null) return;
    const { stageFor, mcpTool } = mcp;
    if (mcp.shadowed) verdict = "shadowed";
    // What the call needed, in the limits' events too: a replay decides their permission again.
    const asked: CallDetails = required === undefined ? { method, required: mcpTool === undefined ? ToolAccess.READ : (tool.mcpTools as Record<string, ToolAccess>)[mcpTool] } : { method, path: route.path, required };
    if (verdict === "pass") verdict = await this.withinLimit(role, tool, res, asked);
    if (verdict === "pass" && mcpTool !== undefined) verdict = await this.withinLimit(role, tool, res, asked, mcpTool);
    if (verdict === "pass") verdict = await this.withinTokenBudget(role, tool, res, asked);
    if (verdict === "refused") return;
    // Model calls are POSTs: only those are held to the task's and the role's tokens (every call
    // with a task id renews its lease). Task limits hold in audit mode too.
    if (!(await this.withinTaskLimits(role, task, tool, res, { countCall: false, checkTokens: method === "POST" }))) return;
    const key = tool.keyHeader === undefined ? undefined : this.options.keys.get(tool.name);
    if (tool.keyHeader !== undefined && key === undefined) {
      this.refuse(res, 503, "key_unavailable", tool.name, role, {}, { error: "key_unavailable", tool: tool.name, message: "the tool's key is not loaded; try again later" });
      return;
    }
    this.options.metrics.countDecision("allowed", role, tool.name);
    // A role's task tokens are read from its POST answers (a tool's `tokenLimit` reads every answer).
    const metered = tool.tokenLimit !== undefined || (method === "POST" && this.options.config.taskLimits.get(role)?.maxTokensPerTask !== undefined);
    const meter: AnswerStageFor | undefined = !metered
      ? undefined
      : (_status, contentType) => tokenMeter(contentType, MAX_INSPECTED_ANSWER_BYTES, (usage) => this.recordTokens(role, tool, usage, task, verdict === "pass"));
    // An MCP endpoint is the upstream URL itself: only the query is added.
    if (!res.destroyed) call = this.forward(role, tool, method, tool.mcpTools === undefined ? `${route.path}${route.query}` : route.query, req.headers, body, key, res, stageFor ?? meter);
  }
  /**
   * Decides an MCP request (see `decideMcpRequest`): null when it was refused (answered here),
   * else what filters its answer (a `tools/list`), the MCP tool it calls, if any, and whether
   * shadow mode let a refused request through. In shadow mode `tools/list` answers are not
   * filtered, so agents behave as they will once nothing is hidden from them.
   */
  private mcpRequest(role: string, tool: GatewayTool, method: string, body: Buffer, res: ServerResponse): { stageFor?: AnswerStageFor; mcpTool?: string; shadowed?: boolean } | null {
    const mcpTools = tool.mcpTools ?? {};
    const granted = this.options.config.roles.get(role)?.get(tool.name) ?? ToolAccess.DENY;
    const decision = decideMcpRequest(mcpTools, granted, method, body);
    const enforced = enforcedRefusal(this.options.config, role, tool.name, "permission_denied");
    if (!decision.allowed) {
      if (decision.event === "permission_denied" && !enforced.refused) {
        this.wouldDeny("permission_denied", decision.status, tool.name, role, { method, ...decision.details });
        return { shadowed: true };
      }
      this.raise(decision.event, tool.name, role, { method, ...decision.details });
      sendJson(res, decision.status, decision.body);
      return null;
    }
    const { toolsListId, mcpTool } = decision;
    if (toolsListId === undefined || !enforced.refused) return { mcpTool };
    const visible = visibleMcpTools(mcpTools, granted);
    return { stageFor: (status, contentType) => (status === 200 ? toolsListFilter(contentType, toolsListId, visible, MAX_INSPECTED_ANSWER_BYTES) : undefined) };
  }

  /** Refuses a call once the role's token window on the tool has reached its budget. */
  private async withinTokenBudget(role: string, tool: GatewayTool, res: ServerResponse, asked: CallDetails): Promise<Verdict> {
    if (tool.tokenLimit === undefined) return "pass";
    try {
      const decision = await this.tokenBudget.check(role, tool.name, tool.tokenLimit);
      if (decision.allowed) return "pass";
      const { maxTokens, windowSec } = tool.tokenLimit;
      return this.refuseOrShadow(res, 429, "token_budget_exceeded", tool.name, role, { ...asked, retry_after_sec: decision.retryAfterSec, max_tokens: maxTokens, window_sec: windowSec }, {
        error: "token_budget_exceeded",
        tool: tool.name,
        retry_after_sec: decision.retryAfterSec,
        message: `role ${role} has used its ${maxTokens} tokens of ${tool.name} in ${windowSec} s; retry after ${decision.retryAfterSec} s`,
      }, { "retry-after": String(decision.retryAfterSec) });
    } catch (error) {
      return this.limiterFailed(error, role, tool, res);
    }
  }

  /**
   * Counts the tokens an answer reported: in the metrics, in the role's window on the tool (with
   * `inWindow`: a call shadow mode let through is not, since enforcement would have refused it),
   * and in the role's task limits.
   */
  private recordTokens(role: string, tool: GatewayTool, usage: { readonly input: number; readonly output: number }, task: string | undefined, inWindow: boolean): void {
    this.options.metrics.countTokens(role, tool.name, usage);
    const tokens = usage.input + usage.output;
    const lost = (error: unknown) => {
      const reason = error instanceof LimiterUnavailableError ? error.reason : "error";
      this.options.metrics.limiterErrors.inc({ reason });
      this.options.events.emit(firewallEvent("limiter_unavailable", tool.name, role, { reason, lost_tokens: tokens }));
    };
    if (tool.tokenLimit !== undefined && inWindow) this.tokenBudget.record(role, tool.name, tool.tokenLimit, tokens).catch(lost);
    const limits = this.options.config.taskLimits.get(role);
    if (limits?.maxTokensPerTask === undefined) return;
    if (limits.roleTokens !== undefined) this.tokenBudget.record(role, ROLE_TASK_TOKENS, { maxTokens: limits.roleTokens, windowSec: limits.windowSec }, tokens).catch(lost);
    if (task !== undefined) this.tasks.recordTokens(role, task, limits, tokens).catch(lost);
  }

  /**
   * The role's task limits on a check (`countCall`) or a proxied call (`checkTokens`): the task's
   * lease, counts and the role's windows (see `TASK_ADMIT_SCRIPT`), and before a proxied call
   * the role's window of tokens. A role without limits, or a call without a task id and with no
   * role window to count in, passes without Redis.
   */
  private async withinTaskLimits(role: string, task: string | undefined, tool: GatewayTool | null, res: ServerResponse, admission: TaskAdmission): Promise<boolean> {
    const limits = this.options.config.taskLimits.get(role);
    if (limits === undefined) return true;
    try {
      let refusal = task === undefined && !(admission.countCall && limits.roleCalls !== undefined) ? undefined : await this.tasks.admit(role, task, limits, admission);
      if (refusal === undefined && admission.checkTokens && limits.roleTokens !== undefined) {
        const decision = await this.tokenBudget.check(role, ROLE_TASK_TOKENS, { maxTokens: limits.roleTokens, windowSec: limits.windowSec });
        if (!decision.allowed) refusal = { kind: "task_limit_exceeded", limit: "role_tokens", max: limits.roleTokens, retryAfterSec: decision.retryAfterSec };
      }
      if (refusal === undefined) return true;
      const answer = taskRefusalAnswer(role, task, refusal);
      const retry: Record<string, string> = answer.retryAfterSec === undefined ? {} : { "retry-after": String(answer.retryAfterSec) };
      this.refuse(res, 429, refusal.kind, tool?.name ?? null, role, answer.details, tool === null ? answer.body : { ...answer.body, tool: tool.name }, false, retry);
      return false;
    } catch (error) {
      if (tool !== null) return this.limiterFailed(error, role, tool, res) === "pass";
      this.limiterRefused(error, null, role, res);
      return false;
    }
  }

  /** `POST /v1/tasks/start` and `/v1/tasks/end` with `{"task"}`: a runtime's hook opens (refused past `maxConcurrentTasks`) or ends a task. */
  private async taskEndpoint(action: "start" | "end", role: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = await this.readCheckBody(req, res, role, '{"task":"…"}');
    if (request === undefined) return;
    const taskId = parseTaskId(request.task);
    if ("problem" in taskId || taskId.task === undefined) {
      const problem = "problem" in taskId ? taskId.problem : "no task id";
      this.refuse(res, 400, "bad_request", null, role, { reason: "bad task request" }, { error: "bad_request", message: `${problem}; send {"task":"…"}` });
      return;
    }
    const { task } = taskId;
    const limits = this.options.config.taskLimits.get(role);
    if (action === "start") {
      if (!(await this.withinTaskLimits(role, task, null, res, { countCall: false, checkTokens: false }))) return;
      sendJson(res, 200, { task, agent_role: role, open: true, ...(limits === undefined ? { limited: false } : { lease_sec: limits.leaseSec }) });
      return;
    }
    let ended = false;
    try {
      ended = limits === undefined ? false : await this.tasks.end(role, task);
    } catch (error) {
      this.limiterRefused(error, null, role, res);
      return;
    }
    sendJson(res, 200, { task, agent_role: role, ended });
  }

  /** The JSON body of a check or task request, or undefined when it was refused (answered here). */
  private async readCheckBody(req: IncomingMessage, res: ServerResponse, role: string, shape: string): Promise<Record<string, unknown> | undefined> {
    let request: unknown;
    try {
      request = JSON.parse((await readBody(req, MAX_CHECK_BODY_BYTES)).toString("utf8"));
    } catch (error) {
      const reason = error instanceof BodyTooLarge ? "body too large" : "body is not JSON";
      this.refuse(res, 400, "bad_request", null, role, { reason }, { error: "bad_request", message: `${reason}; send ${shape}` }, true);
      return undefined;
    }
    return (typeof request === "object" && request !== null ? request : {}) as Record<string, unknown>;
  }

  /** `POST /v1/check` with `{"tool","access","task"?}`: the same decision, without a call; with a task id, one tool call of that task. */
  private async check(role: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = await this.readCheckBody(req, res, role, '{"tool":"…","access":"READ|WRITE|EXECUTE"}');
    if (request === undefined) return;
    const { tool: toolName, access } = request;
    const taskId = parseTaskId(request.task);
    if (typeof toolName !== "string" || typeof access !== "string" || !ACCESS_VALUES.has(access) || "problem" in taskId) {
      const problem = "problem" in taskId ? `${taskId.problem}; ` : "";
      this.refuse(res, 400, "bad_request", null, role, { reason: "bad check request" }, { error: "bad_request", message: `${problem}send {"tool":"…","access":"READ|WRITE|EXECUTE","task":"…"} (task optional)` });
      return;
    }
    const tool = this.options.config.tools.get(toolName);
    if (tool === undefined) {
      this.refuse(res, 404, "unknown_tool", null, role, { requested_tool: toolName.slice(0, 64) }, { error: "unknown_tool", message: "no such tool" });
      return;
    }
    let verdict = this.permitted(role, tool.name, access as ToolAccess, res, { method: "CHECK" });
    if (verdict === "pass") verdict = await this.withinLimit(role, tool, res, { method: "CHECK", required: access as ToolAccess });
    if (verdict === "refused") return;
    if (!(await this.withinTaskLimits(role, taskId.task, tool, res, { countCall: true, checkTokens: false }))) return;
    this.options.metrics.countDecision("allowed", role, tool.name);
    sendJson(res, 200, { allowed: true, tool: tool.name, agent_role: role, access });
  }

  private permitted(role: string, toolName: string, required: ToolAccess, res: ServerResponse, details: Record<string, string>): Verdict {
    const decision = decidePermission(this.options.config, role, toolName, required);
    if (decision.allowed) return "pass";
    const granted = decision.reason === "permission_denied" ? decision.granted : ToolAccess.DENY;
    return this.refuseOrShadow(res, 403, "permission_denied", toolName, role, { ...details, required, granted }, { error: "permission_denied", tool: toolName, agent_role: role, required, granted });
  }

  /** The tool's rate limit, or with `mcpTool` that MCP tool's own limit, if it has one. */
  private async withinLimit(role: string, tool: GatewayTool, res: ServerResponse, asked: CallDetails, mcpTool?: string): Promise<Verdict> {
    const limit = mcpTool === undefined ? tool.rateLimit : tool.mcpRateLimits !== undefined && Object.hasOwn(tool.mcpRateLimits, mcpTool) ? tool.mcpRateLimits[mcpTool] : undefined;
    if (limit === undefined) return "pass";
    try {
      // An MCP tool's window is apart from its tool's: `<tool>/<mcp tool>` (tool names hold no "/").
      const decision = await this.options.limiter.take(role, mcpTool === undefined ? tool.name : `${tool.name}/${mcpTool}`, limit);
      if (decision.allowed) return "pass";
      const { maxCalls, windowSec } = limit;
      const what = mcpTool === undefined ? tool.name : `${tool.name}'s MCP tool ${mcpTool}`;
      return this.refuseOrShadow(res, 429, "rate_limited", tool.name, role, { ...asked, retry_after_sec: decision.retryAfterSec, max_calls: maxCalls, window_sec: windowSec, ...(mcpTool === undefined ? {} : { mcp_tool: mcpTool }) }, {
        error: "rate_limited",
        tool: tool.name,
        retry_after_sec: decision.retryAfterSec,
        message: `at most ${maxCalls} calls to ${what} in ${windowSec} s for role ${role}; retry after ${decision.retryAfterSec} s`,
      }, { "retry-after": String(decision.retryAfterSec) });
    } catch (error) {
      return this.limiterFailed(error, role, tool, res);
    }
  }

  /** A limiter or token-budget decision Redis could not make: let through (failOpen) or refuse with 503. */
  private limiterFailed(error: unknown, role: string, tool: GatewayTool, res: ServerResponse): Verdict {
    if (!tool.failOpen) {
      this.limiterRefused(error, tool.name, role, res);
      return "refused";
    }
    const reason = error instanceof LimiterUnavailableError ? error.reason : "error";
    this.options.metrics.limiterErrors.inc({ reason });
    this.options.events.emit(firewallEvent("limiter_unavailable", tool.name, role, { reason, failed_open: true }));
    return "pass";
  }

  /** Refuses with 503 what Redis could not decide. */
  private limiterRefused(error: unknown, tool: string | null, role: string, res: ServerResponse): void {
    const reason = error instanceof LimiterUnavailableError ? error.reason : "error";
    this.options.metrics.limiterErrors.inc({ reason });
    this.refuse(res, 503, "limiter_unavailable", tool, role, { reason, failed_open: false }, { error: "limiter_unavailable", ...(tool === null ? {} : { tool }), message: "the rate limiter is unavailable; try again shortly" }, false, { "retry-after": "1" });
  }

  /**
   * A refusal the rules decided, under the enforcement of the role's calls to the tool: refused
   * (answered with `status` and `body`), or shadowed (a `would_deny` event, and the call goes on).
   */
  private refuseOrShadow(
    res: ServerResponse,
    status: number,
    refusal: AuditableRefusal,
    tool: string,
    role: string,
    details: Record<string, string | number | boolean | null>,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Verdict {
    if (!enforcedRefusal(this.options.config, role, tool, refusal).refused) {
      this.wouldDeny(refusal, status, tool, role, details);
      return "shadowed";
    }
    this.refuse(res, status, refusal, tool, role, details, body, false, headers);
    return "refused";
  }

  /** Raises `would_deny`: the refusal's own details, its event type in `refusal` and the status it would have answered. */
  private wouldDeny(refusal: AuditableRefusal, status: number, tool: string, role: string, details: Record<string, string | number | boolean | null>): void {
    this.options.events.emit(firewallEvent("would_deny", tool, role, { ...details, refusal, status }));
    this.options.metrics.countWouldDeny(refusal, role, tool);
  }

  private forward(role: string, tool: GatewayTool, method: string, pathAndQuery: string, incoming: IncomingHttpHeaders, body: Buffer, key: string | undefined, res: ServerResponse, stageFor?: AnswerStageFor): UpstreamCall {
    const upstream = tool.upstream as URL;
    const headers: Record<string, string | string[]> = {};
    const connectionTokens = incoming.connection === undefined ? undefined : new Set(incoming.connection.toLowerCase().split(",").map((t) => t.trim()));
    for (const name in incoming) {
      const value = incoming[name];
      if (value === undefined || DROPPED_REQUEST_HEADERS.has(name) || connectionTokens?.has(name) || name === tool.keyHeader?.name) continue;
      headers[name] = value;
    }
    headers.host = upstream.host;
    headers["accept-encoding"] = "identity";
    if (tool.keyHeader !== undefined && key !== undefined) headers[tool.keyHeader.name] = `${tool.keyHeader.prefix}${key}${tool.keyHeader.suffix}`;
    const call = new UpstreamCall(res, tool.name, role, key === undefined ? undefined : new KeyScrubber(this.spellingsOf(tool.name, key)), this.options.maxResponseBytes, this.outcome, stageFor);
    this.pools.pool(tool, role).dispatch({
      path: pathAndQuery.startsWith("/") ? `${upstream.pathname.replace(/\/$/, "")}${pathAndQuery}` : `${upstream.pathname}${pathAndQuery}`,
      method,
      headers,
      body: body.length > 0 || !BODYLESS_METHODS.has(method) ? body : null,
    }, call);
    return call;
  }

  /** The spellings of `tool`'s current key. */
  private spellingsOf(tool: string, key: string): KeySpellings {
    let known = this.spellingsByTool.get(tool);
    if (known?.key !== key) {
      known = { key, spellings: new KeySpellings(key) };
      this.spellingsByTool.set(tool, known);
    }
    return known.spellings;
  }

  /** Raises a refusal's event and counts the decision. */
  raise(eventType: GatewayEventType, tool: string | null, role: string | null, details: Record<string, string | number | boolean | null>): void {
    this.options.events.emit(firewallEvent(eventType, tool, role, details));
    this.options.metrics.countDecision(eventType, role, tool);
  }

  /** Answers with a refusal, raises its event and counts the decision. */
  refuse(
    res: ServerResponse,
    status: number,
    eventType: GatewayEventType,
    tool: string | null,
    role: string | null,
    details: Record<string, string | number | boolean | null>,
    body: Record<string, unknown>,
    closeConnection = false,
    headers: Record<string, string> = {},
  ): void {
    this.raise(eventType, tool, role, details);
    if (closeConnection) res.shouldKeepAlive = false;
    sendJson(res, status, body, headers);
  }

  /** Closes the upstream connections. */
  close(): void {
    void this.pools.close();
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const NO_BODY = Buffer.alloc(0);

/** Reads a request body up to `limit` bytes; refuses a larger declared or actual length without reading on. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  // A request without a body (most GETs) is complete once its head is parsed: no listeners to add.
  if (req.complete && req.readableLength === 0) return Promise.resolve(NO_BODY);
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"] ?? 0) > limit) { reject(new BodyTooLarge()); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) { req.removeAllListeners("data"); req.pause(); reject(new BodyTooLarge()); return; }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
    req.on("aborted", () => reject(new Error("aborted")));
  });
}
