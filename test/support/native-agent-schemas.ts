import { z } from "zod";

/*
 * OpenClaw's own schema ships only inside the `openclaw` npm package (95 MB, Node >= 24, in a
 * chunk whose name changes per release), so these schemas are strict copies of the keys we emit,
 * read from OpenClaw 2026.9.6's documentation and schema and from Hermes Agent's shell-hook source
 * (Python, which cannot run here). Unknown keys fail, as they do in OpenClaw's strict schema.
 */
const openClawToolId = z.string().regex(/^(\*|[a-z][a-z0-9_-]*)$/);
export const openClawFragment = z.strictObject({
  agents: z.strictObject({
    entries: z
      .record(z.string().regex(/^[a-z0-9_][a-z0-9_-]{0,63}$/i), z.strictObject({ tools: z.strictObject({ allow: z.array(openClawToolId).min(1).optional(), deny: z.array(openClawToolId) }) }))
      .refine((entries) => Object.keys(entries).length === 1, "one agent entry per role"),
  }),
  plugins: z.strictObject({
    enabled: z.literal(true),
    allow: z.array(z.string()),
    load: z.strictObject({ paths: z.array(z.string().startsWith("/")) }),
    entries: z.record(z.string(), z.strictObject({ enabled: z.literal(true), hooks: z.strictObject({ allowConversationAccess: z.boolean() }).optional(), config: z.record(z.string(), z.unknown()) })),
  }),
  models: z.strictObject({ providers: z.record(z.string(), z.strictObject({ baseUrl: z.url(), api: z.enum(["anthropic-messages", "openai-responses"]).optional(), apiKey: z.string().optional() })) }).optional(),
});

const HERMES_CORE_TOOLSETS = [
  "browser", "clarify", "code_execution", "computer_use", "cronjob", "delegation", "file", "homeassistant", "image_gen", "memory",
  "search", "session_search", "skills", "terminal", "todo", "tts", "video_gen", "vision", "web", "x_search",
] as const;
export const hermesFragment = z.strictObject({
  toolsets: z.array(z.enum(HERMES_CORE_TOOLSETS)),
  platform_toolsets: z.strictObject({ cli: z.array(z.enum(HERMES_CORE_TOOLSETS)) }),
  hooks_auto_accept: z.literal(true),
  hooks: z.strictObject({
    pre_tool_call: z.array(z.strictObject({ matcher: z.string(), command: z.string().min(1), timeout: z.number().int().min(1).max(300), fail_closed: z.literal(true) })).length(1),
    // No matcher: Hermes honours it for tool events only.
    on_session_end: z.array(z.strictObject({ command: z.string().min(1), timeout: z.number().int().min(1).max(300) })).length(1).optional(),
  }),
  model: z.strictObject({ provider: z.literal("custom"), base_url: z.url() }).optional(),
});
