/**
 * The agents' own configuration fragments shipped by the stack: OpenClaw's `openclaw.json` (the
 * gateway-check plugin's tool map) and Hermes Agent's `config.yaml` (the `pre_tool_call` hook's
 * `--tool agentTool=tool:ACCESS` arguments). Each hook blocks agent tools it has no entry for, so
 * the entries are what the agent may call, and a hook that does not run lets everything through.
 */
import { LABELS } from "../plan/plan";
import { OPENCLAW_PLUGIN_ID } from "../render/openclaw-config";
import type { Grant } from "./findings";
import { labelsOf, type ShippedFile, type TerraformDocument } from "./terraform-document";

/** One agent's hook configuration. */
export interface AgentHooks {
  /** Resource name of the role whose workload carries the file. */
  readonly role: string;
  readonly runtime: "openclaw" | "hermes";
  readonly where: string;
  /** `agentTool → tool:ACCESS`, one per entry the hook lets through (after asking the gateway). */
  readonly mappings: Grant[];
  /** Ways the hook does not run (plugin disabled, matcher narrowed, fail open): each lets every call through. */
  readonly bypasses: Grant[];
}

/** The text of one mapping: what the hook asks the gateway before letting `agentTool` run. */
export const mappingText = (agentTool: string, tool: string, access: string) => `${agentTool} → ${tool}:${access}`;

function roleOf(file: ShippedFile): string | undefined {
  const body = file.resource.body;
  return labelsOf(file.resource.type === "docker_container" ? body.labels : body.metadata?.labels)[LABELS.role];
}

function openClawHooks(file: ShippedFile, role: string): AgentHooks {
  const config = JSON.parse(file.content) as Record<string, any>;
  const plugin = config.plugins?.entries?.[OPENCLAW_PLUGIN_ID];
  const bypasses: Grant[] = [];
  const bypass = (item: string, rule: string) => bypasses.push({ item, artifact: file.where, rule });
  if (config.plugins?.enabled === false) bypass("every tool (plugins disabled)", "plugins.enabled = false");
  if (!(config.plugins?.allow ?? []).includes(OPENCLAW_PLUGIN_ID)) bypass(`every tool (${OPENCLAW_PLUGIN_ID} not in plugins.allow)`, "plugins.allow");
  if (plugin?.enabled !== true) bypass(`every tool (${OPENCLAW_PLUGIN_ID} not enabled)`, `plugins.entries.${OPENCLAW_PLUGIN_ID}.enabled`);
  const tools = (plugin?.config?.tools ?? {}) as Record<string, { tool?: string; access?: string }>;
  const mappings = Object.entries(tools).map(([agentTool, t]) => ({ item: mappingText(agentTool, String(t.tool), String(t.access)), artifact: file.where, rule: `plugins.entries.${OPENCLAW_PLUGIN_ID}.config.tools.${agentTool}` }));
  return { role, runtime: "openclaw", where: file.where, mappings, bypasses };
}

function hermesHooks(file: ShippedFile, role: string, config: Record<string, any>): AgentHooks {
  const bypasses: Grant[] = [];
  const bypass = (item: string, rule: string) => bypasses.push({ item, artifact: file.where, rule });
  if (config.hooks_auto_accept !== true) bypass("every tool (a non-interactive Hermes skips hooks without hooks_auto_accept)", "hooks_auto_accept");
  const hooks = (config.hooks?.pre_tool_call ?? []) as Record<string, any>[];
  const mappings: Grant[] = [];
  hooks.forEach((hook, i) => {
    const rule = `hooks.pre_tool_call[${i}]`;
    if (hook.matcher !== ".*") bypass(`tools the matcher ${JSON.stringify(hook.matcher)} leaves out`, `${rule}.matcher`);
    if (hook.fail_closed !== true) bypass("every tool when the hook fails (fail_closed is not true)", `${rule}.fail_closed`);
    for (const match of String(hook.command ?? "").matchAll(/--tool\s+([^\s=]+)=([^\s:]+):([A-Z]+)/g)) {
      mappings.push({ item: mappingText(match[1], match[2], match[3]), artifact: file.where, rule: `${rule}.command --tool ${match[0].slice(7)}` });
    }
  });
  if (hooks.length === 0) bypass("every tool (no pre_tool_call hook)", "hooks.pre_tool_call");
  return { role, runtime: "hermes", where: file.where, mappings, bypasses };
}

/** Every OpenClaw and Hermes fragment shipped to a role's workloads. */
export function readAgentHooks(doc: TerraformDocument): AgentHooks[] {
  return doc.files().flatMap((file): AgentHooks[] => {
    const role = roleOf(file);
    if (role === undefined) return [];
    if (/(^|\/)openclaw\.json$/.test(file.path)) return [openClawHooks(file, role)];
    if (/(^|\/)config\.yaml$/.test(file.path)) {
      // yaml on first use: most stacks ship no Hermes config, and loading it slows every cold start.
      const config = (require("yaml") as typeof import("yaml")).parse(file.content) as Record<string, any> | null;
      if (config && typeof config === "object" && ("hooks" in config || "toolsets" in config)) return [hermesHooks(file, role, config)];
    }
    return [];
  });
}
