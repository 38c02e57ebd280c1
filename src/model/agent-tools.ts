/**
 * Our tools as OpenClaw and Hermes Agent name them, and the access each agent tool needs.
 *
 * Catalogues read from OpenClaw 2026.9.6 (its core tool catalogue) and Hermes Agent's toolsets
 * at its repository head (autumn 2026); tool names change between releases of both, so pin the
 * agent images and re-check when you bump them.
 *
 * The access rule: an agent tool that only reads (fetches a page, reads a file, searches) needs
 * READ on the tool it is mapped from; one that changes files or memory needs WRITE; anything that
 * runs code, drives a browser, sends messages or is not in these catalogues (plugin and MCP
 * tools) needs EXECUTE. A role holding READ on a tool mapped to both `web_fetch` and `exec` gets
 * `web_fetch` and not `exec`.
 */
import { formatPath } from "./errors";
import { unknownName } from "./suggest";
import { ToolAccess, type AgentToolNamesProps } from "./types";

/** The agents with a native configuration. */
export type NativeAgent = keyof AgentToolNamesProps;

export const NATIVE_AGENTS: ReadonlyArray<NativeAgent> = ["openclaw", "hermes"];

/** How each agent is named in messages. */
export const AGENT_TITLES: Readonly<Record<NativeAgent, string>> = { openclaw: "OpenClaw", hermes: "Hermes Agent" };

/** OpenClaw 2026.9.6 core tools that only read. */
const OPENCLAW_READ = ["ls", "memory_get", "memory_search", "pdf", "read", "session_status", "view_image", "web_fetch", "web_search", "x_search"];
/** OpenClaw 2026.9.6 core tools that change files. */
const OPENCLAW_WRITE = ["apply_patch", "edit", "write"];
/** The rest of OpenClaw 2026.9.6's core catalogue: they run code, drive devices or act for the user. */
const OPENCLAW_EXECUTE = [
  "agents_list", "agents_wait", "ask_user", "automations", "browser", "canvas", "code_execution", "computer", "conversations_list",
  "conversations_send", "conversations_turn", "create_goal", "dashboard", "dismiss_task", "exec", "gateway", "get_goal",
  "github_identity_status", "github_publish", "heartbeat_respond", "image_generate", "message", "mobile_ui", "music_generate", "nodes",
  "openclaw", "plugins", "portal", "process", "progress_card", "screen", "secrets", "sessions", "sessions_history", "sessions_list",
  "sessions_search", "sessions_send", "sessions_spawn", "sessions_yield", "show_widget", "skill_workshop", "subagents", "suggest_task",
  "terminal", "theme", "tts", "update_goal", "video_generate",
];

/** Hermes Agent's core toolsets and their tools (no composites such as `coding` or `safe`). */
export const HERMES_TOOLSETS: Readonly<Record<string, ReadonlyArray<string>>> = {
  browser: [
    "browser_back", "browser_cdp", "browser_click", "browser_console", "browser_dialog", "browser_exec", "browser_get_images",
    "browser_navigate", "browser_press", "browser_scroll", "browser_snapshot", "browser_type", "browser_vision",
  ],
  clarify: ["clarify"],
  code_execution: ["execute_code"],
  computer_use: ["computer_use"],
  cronjob: ["cronjob_manage"],
  delegation: ["delegate_task"],
  file: ["patch", "read_file", "search_files", "write_file"],
  homeassistant: ["ha_call_service", "ha_get_state", "ha_list_entities", "ha_list_services"],
  image_gen: ["image_generate"],
  memory: ["memory"],
  search: ["web_search"],
  session_search: ["session_search"],
  skills: ["skill_manage", "skill_view", "skills_list"],
  terminal: ["process_manage", "terminal"],
  todo: ["todo_list"],
  tts: ["text_to_speech"],
  video_gen: ["video_generate", "xai_video_edit", "xai_video_extend"],
  vision: ["vision_analyze"],
  web: ["web_extract", "web_search"],
  x_search: ["x_search"],
};
/** Hermes tools that only read. */
const HERMES_READ = ["ha_get_state", "ha_list_entities", "ha_list_services", "read_file", "search_files", "session_search", "skill_view", "skills_list", "vision_analyze", "web_extract", "web_search", "x_search"];
/** Hermes tools that change files, memory or lists. */
const HERMES_WRITE = ["memory", "patch", "skill_manage", "todo_list", "write_file"];

/** Every tool name each agent's catalogue knows. */
export const KNOWN_AGENT_TOOLS: Readonly<Record<NativeAgent, ReadonlySet<string>>> = {
  openclaw: new Set([...OPENCLAW_READ, ...OPENCLAW_WRITE, ...OPENCLAW_EXECUTE]),
  hermes: new Set(Object.values(HERMES_TOOLSETS).flat()),
};

const ACCESS_NEEDED: Readonly<Record<NativeAgent, ReadonlyMap<string, ToolAccess>>> = {
  openclaw: new Map([...OPENCLAW_READ.map((t) => [t, ToolAccess.READ] as const), ...OPENCLAW_WRITE.map((t) => [t, ToolAccess.WRITE] as const)]),
  hermes: new Map([...HERMES_READ.map((t) => [t, ToolAccess.READ] as const), ...HERMES_WRITE.map((t) => [t, ToolAccess.WRITE] as const)]),
};

/** The access a role needs on the mapped tool for the agent to get `agentTool`; EXECUTE for tools outside the catalogue. */
export function accessNeeded(agent: NativeAgent, agentTool: string): ToolAccess {
  return ACCESS_NEEDED[agent].get(agentTool) ?? ToolAccess.EXECUTE;
}

/** Hermes' smallest core toolset holding `tool` (`search` rather than `web` for `web_search`). */
export function hermesToolsetOf(tool: string): string | undefined {
  let best: string | undefined;
  for (const [toolset, tools] of Object.entries(HERMES_TOOLSETS)) {
    if (tools.includes(tool) && (best === undefined || tools.length < HERMES_TOOLSETS[best].length)) best = toolset;
  }
  return best;
}

/**
 * The agent tool names of one of our tools: `agentTools.<agent>` when given, else the tool's own
 * name when that agent has a tool of that name (our `web_search` is `web_search` in both), else none.
 */
export function agentToolNames(toolName: string, mapping: AgentToolNamesProps | undefined, agent: NativeAgent): string[] {
  const given = mapping?.[agent];
  if (given !== undefined) return [...given];
  return KNOWN_AGENT_TOOLS[agent].has(toolName) ? [toolName] : [];
}

/** OpenClaw tool ids: lower case, digits, `_` and `-` (plugin tools included); no groups, no wildcards. */
const OPENCLAW_TOOL_NAME = /^[a-z][a-z0-9_-]*$/;

type Add = (path: ReadonlyArray<PropertyKey>, message: string) => void;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Checks every tool's `agentTools` on the raw input: names each agent accepts, no name twice, and
 * no agent tool mapped from two of our tools (the hooks map an agent tool back to exactly one).
 */
export function checkAgentTools(tools: unknown, add: Add): void {
  if (!isRecord(tools)) return;
  for (const agent of NATIVE_AGENTS) {
    /** Agent tool to the tool it stands for, and whether by default. */
    const owner = new Map<string, { tool: string; byDefault: boolean }>();
    // Defaults first, so that an explicit mapping colliding with a default is reported where it is written.
    const entries = Object.entries(tools).map(([name, tool]) => {
      const mapping = isRecord(tool) && isRecord(tool.agentTools) ? tool.agentTools : undefined;
      const given = mapping?.[agent];
      return { name, given: Array.isArray(given) ? given : undefined, explicit: mapping !== undefined && given !== undefined };
    });
    for (const { name } of entries.filter((e) => !e.explicit)) {
      if (KNOWN_AGENT_TOOLS[agent].has(name)) owner.set(name, { tool: name, byDefault: true });
    }
    for (const { name, given } of entries) {
      given?.forEach((agentTool, index) => {
        const path = ["tools", name, "agentTools", agent, index];
        if (typeof agentTool !== "string") return; // the schema reports it
        const problem = agentToolNameProblem(agent, agentTool);
        if (problem !== undefined) { add(path, problem); return; }
        const previous = owner.get(agentTool);
        if (previous === undefined) owner.set(agentTool, { tool: name, byDefault: false });
        else if (previous.tool === name) add(path, `${AGENT_TITLES[agent]} tool "${agentTool}" is listed twice; list it once`);
        else {
          const how = previous.byDefault ? `by default (set tools.${previous.tool}.agentTools.${agent} to [] to free it)` : `at ${formatPath(["tools", previous.tool, "agentTools", agent])}`;
          add(path, `${AGENT_TITLES[agent]} tool "${agentTool}" is already the name of tool "${previous.tool}" ${how}; an agent tool stands for one tool only`);
        }
      });
    }
  }
}

/** Why `name` is not a tool name the agent accepts, or undefined. */
function agentToolNameProblem(agent: NativeAgent, name: string): string | undefined {
  const title = AGENT_TITLES[agent];
  if (name.includes("*") || name.startsWith("group:")) {
    return `"${name}" is a ${name.includes("*") ? "wildcard" : "group"}; list ${title} tool names one by one (groups and wildcards change between releases)`;
  }
  if (agent === "openclaw") {
    return OPENCLAW_TOOL_NAME.test(name) ? undefined : `"${name}" is not an OpenClaw tool id; write it in lower case with digits, _ and -, such as web_fetch`;
  }
  return KNOWN_AGENT_TOOLS.hermes.has(name) ? undefined : `${unknownName("Hermes Agent tool", name, [...KNOWN_AGENT_TOOLS.hermes])}`;
}
