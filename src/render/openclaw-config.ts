/**
 * The part of OpenClaw's `openclaw.json` (2026.9.6 schema) that the firewall owns for one role:
 *
 * ```json
 * {
 *   "agents": { "entries": { "<agent id>": { "tools": { "allow": ["web_search"], "deny": ["exec"] } } } },
 *   "plugins": {
 *     "enabled": true, "allow": ["rapidclaw-gateway-check"], "load": { "paths": ["<plugin dir>"] },
 *     "entries": { "rapidclaw-gateway-check": { "enabled": true,
 *       "config": { "gatewayUrl": "http://…:8080", "tools": { "web_search": { "tool": "web_search", "access": "READ" } } } } }
 *   },
 *   "models": { "providers": { "anthropic": { "baseUrl": "http://…:8080/tools/anthropic", "api": "anthropic-messages",
 *     "apiKey": "held-by-the-rapidclaw-gateway" } } }
 * }
 * ```
 *
 * Tool names are explicit (groups change between releases); `deny` lists the mapped tools the
 * role may not use (deny wins in OpenClaw), and a role with no tool at all gets `deny: ["*"]`
 * rather than an empty `allow`. The plugin asks the gateway before every call and blocks what
 * is not in its `tools` map. For a role with task limits the plugin's config also has
 * `"tasks": true` (each run is a task at the gateway) and its entry `"hooks": { "allowConversationAccess": true }`,
 * without which OpenClaw does not let a plugin it did not bundle register its run hooks.
 */
import { hasTaskLimits } from "../gateway/task-limits";
import { FirewallSpecError } from "../model/errors";
import { byString } from "../model/order";
import { KeyDelivery, type ToolAccess } from "../model/types";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import type { PlannedRole } from "../plan/plan";
import { agentToolGrants, frontedModelApi, gatewayToolUrl, gatewayUrlProblems, modelToolProblems, roleOf } from "./agent-tool-grants";

/** Id of the plugin shipped in the package (`openclaw-plugin/`), as `openclaw.plugin.json` declares it. */
export const OPENCLAW_PLUGIN_ID = "rapidclaw-gateway-check";

/** Where the agent containers find the plugin directory, unless `pluginPath` says otherwise. */
export const OPENCLAW_PLUGIN_PATH = "/opt/rapidclaw/openclaw-plugin";

/** OpenClaw's agent ids (`agents.entries` keys). */
const OPENCLAW_AGENT_ID = /^[a-z0-9_][a-z0-9_-]{0,63}$/i;

/** Options of `OpenClawConfig.forRole`. */
export interface OpenClawConfigOptions {
  /** The role's gateway listener as the agent reaches it, `http://<host>:<port>`. */
  readonly gatewayUrl: string;
  /**
   * Key of the agent under `agents.entries`.
   * @default - the role's name
   */
  readonly agentId?: string;
  /**
   * Directory of the plugin inside the agent's container (the package's `openclaw-plugin/`, mounted).
   * @default "/opt/rapidclaw/openclaw-plugin"
   */
  readonly pluginPath?: string;
  /**
   * OpenClaw model providers pointed at the gateway: provider id (`anthropic`, `openai`) to the
   * tool whose upstream is that model API; its `baseUrl` becomes `<gatewayUrl>/tools/<tool>`.
   * Give `{}` to leave the model providers to you.
   * A bundled provider gets its `api`, and a tool whose key the gateway holds gets
   * `apiKey: OpenClawConfig.GATEWAY_KEY_PLACEHOLDER` (OpenClaw calls no model without a key).
   * @default - derived: each of OpenClaw's bundled providers (`OpenClawConfig.PROVIDER_BASE_URLS`)
   * whose API a tool the role holds at WRITE fronts (the tool's upstream is the provider's base URL
   * or a prefix of it; the first such tool by name), its `baseUrl` the same API through the gateway
   */
  readonly modelProviders?: { [providerId: string]: string };
}

/** What the plugin knows of one OpenClaw tool: the tool it stands for and the access it needs. */
export interface OpenClawPluginTool {
  /** The firewall's tool. */
  readonly tool: string;
  /** The access the call needs. */
  readonly access: ToolAccess;
}

/**
 * The `openclaw.json` fragment of one role. TypeScript only (`@jsii ignore`: jsii admits no
 * nested index signatures); other languages take `toJson()`.
 * @jsii ignore
 */
export interface OpenClawConfigDocument {
  readonly agents: { readonly entries: { readonly [agentId: string]: { readonly tools: { readonly allow?: string[]; readonly deny: string[] } } } };
  readonly plugins: {
    readonly enabled: boolean;
    readonly allow: string[];
    readonly load: { readonly paths: string[] };
    readonly entries: {
      readonly [pluginId: string]: {
        readonly enabled: boolean;
        /** A role with task limits: the plugin's run hooks (`before_agent_run`, `agent_end`) are conversation hooks, which OpenClaw lets a plugin it did not bundle register only so. */
        readonly hooks?: { readonly allowConversationAccess: boolean };
        readonly config: { readonly gatewayUrl: string; readonly tasks?: boolean; readonly tools: { readonly [agentTool: string]: OpenClawPluginTool } };
      };
    };
  };
  readonly models?: { readonly providers: { readonly [providerId: string]: { readonly baseUrl: string; readonly api?: string; readonly apiKey?: string } } };
}

/**
 * OpenClaw's bundled model providers (2026.9.6): the base URL each calls by default and the API it
 * speaks. An overlay that sets `baseUrl` must name the API too: without it OpenClaw speaks OpenAI
 * chat completions to any base URL, Anthropic's included.
 */
const OPENCLAW_PROVIDERS: { readonly [providerId: string]: { readonly baseUrl: string; readonly api: string } } = {
  anthropic: { baseUrl: "https://api.anthropic.com", api: "anthropic-messages" },
  openai: { baseUrl: "https://api.openai.com/v1", api: "openai-responses" },
};

/**
 * What OpenClaw sends as the provider's key when the gateway holds the real one: OpenClaw makes no
 * model call without a key, and the gateway replaces this one with the tool's own.
 */
export const OPENCLAW_GATEWAY_KEY_PLACEHOLDER = "held-by-the-rapidclaw-gateway";

/** One provider overlay: the API through the gateway. */
interface OpenClawModelProvider {
  readonly baseUrl: string;
  readonly api?: string;
  readonly apiKey?: string;
}

/** The provider overlay for `tool` (the API's own `path` beyond the tool's upstream appended). */
function providerThroughGateway(spec: FirewallSpec, provider: string, tool: string, gatewayUrl: string, path = ""): OpenClawModelProvider {
  const gatewayHoldsKey = planOf(spec).tools.find((t) => t.name === tool)?.key?.delivery === KeyDelivery.GATEWAY;
  return {
    baseUrl: `${gatewayToolUrl(gatewayUrl, tool)}${path}`,
    ...(OPENCLAW_PROVIDERS[provider] !== undefined && { api: OPENCLAW_PROVIDERS[provider].api }),
    ...(gatewayHoldsKey && { apiKey: OPENCLAW_GATEWAY_KEY_PLACEHOLDER }),
  };
}

/** The bundled providers whose API a tool the role may POST to fronts (`frontedModelApi`), sorted by provider. */
function frontedModelProviders(spec: FirewallSpec, role: PlannedRole, gatewayUrl: string): [string, OpenClawModelProvider][] {
  return Object.entries(OPENCLAW_PROVIDERS)
    .sort(([a], [b]) => byString(a, b))
    .flatMap(([provider, { baseUrl }]) => {
      const fronting = frontedModelApi(spec, role, baseUrl);
      return fronting === undefined ? [] : [[provider, providerThroughGateway(spec, provider, fronting.tool, gatewayUrl, fronting.path)]];
    });
}

/** OpenClaw's native configuration of one role. */
export class OpenClawConfig {
  /** OpenClaw's bundled model providers and their default base URLs, which tools fronting them are matched against. */
  public static readonly PROVIDER_BASE_URLS: { readonly [providerId: string]: string } = Object.fromEntries(Object.entries(OPENCLAW_PROVIDERS).map(([id, p]) => [id, p.baseUrl]));
  /** What OpenClaw sends as a provider's key when the gateway holds the real one (the gateway replaces it). */
  public static readonly GATEWAY_KEY_PLACEHOLDER = OPENCLAW_GATEWAY_KEY_PLACEHOLDER;
  /** Id of the plugin shipped in the package (`openclaw-plugin/`), as `openclaw.plugin.json` declares it. */
  public static readonly PLUGIN_ID = OPENCLAW_PLUGIN_ID;
  /** Where the agent containers find the plugin directory, unless `pluginPath` says otherwise. */
  public static readonly PLUGIN_PATH = OPENCLAW_PLUGIN_PATH;

  /**
   * The fragment for `role`; throws FirewallSpecError listing every bad option. Mount it next to
   * the agent's own `openclaw.json` and pull it in with `$include`, or merge it.
   */
  public static forRole(spec: FirewallSpec, role: string, options: OpenClawConfigOptions): OpenClawConfig {
    const planned = roleOf(spec, role);
    const agentId = options.agentId ?? role;
    const explicit = Object.entries(options.modelProviders ?? {}).sort(([a], [b]) => byString(a, b));
    const problems = [
      ...gatewayUrlProblems(options.gatewayUrl),
      ...(OPENCLAW_AGENT_ID.test(agentId) ? [] : [{ path: "agentId", message: `"${agentId}" is not an OpenClaw agent id; use letters, digits, _ and - (at most 64), such as research_agent` }]),
      ...(options.pluginPath === undefined || options.pluginPath.startsWith("/") ? [] : [{ path: "pluginPath", message: `pluginPath must be absolute, such as ${OPENCLAW_PLUGIN_PATH}` }]),
      ...explicit.flatMap(([provider, tool]) => modelToolProblems(spec, planned, tool, `modelProviders.${provider}`)),
    ];
    if (problems.length > 0) throw new FirewallSpecError(problems);

    const providers = options.modelProviders === undefined
      ? frontedModelProviders(spec, planned, options.gatewayUrl)
      : explicit.map(([provider, tool]): [string, OpenClawModelProvider] => [provider, providerThroughGateway(spec, provider, tool, options.gatewayUrl)]);
    const grants = agentToolGrants(spec, planned, "openclaw");
    const allow = grants.filter((g) => g.allowed).map((g) => g.agentTool);
    const deny = grants.filter((g) => !g.allowed).map((g) => g.agentTool);
    const taskLimited = hasTaskLimits(planned.limits);
    return new OpenClawConfig({
      agents: { entries: { [agentId]: { tools: allow.length > 0 ? { allow, deny } : { deny: ["*"] } } } },
      plugins: {
        enabled: true,
        allow: [OPENCLAW_PLUGIN_ID],
        load: { paths: [options.pluginPath ?? OPENCLAW_PLUGIN_PATH] },
        entries: {
          [OPENCLAW_PLUGIN_ID]: {
            enabled: true,
            ...(taskLimited && { hooks: { allowConversationAccess: true } }),
            config: {
              gatewayUrl: options.gatewayUrl.replace(/\/+$/, ""),
              ...(taskLimited && { tasks: true }),
              tools: Object.fromEntries(grants.filter((g) => g.allowed).map((g) => [g.agentTool, { tool: g.tool, access: g.access }])),
            },
          },
        },
      },
      ...(providers.length > 0 && { models: { providers: Object.fromEntries(providers) } }),
    });
  }

  private constructor(
    /**
     * The fragment as data (TypeScript only; other languages read `toJson()`).
     * @jsii ignore
     */
    public readonly document: OpenClawConfigDocument,
  ) {}

  /** The fragment as JSON (valid JSON5), two-space indented, with a final newline. */
  public toJson(): string {
    return `${JSON.stringify(this.document, null, 2)}\n`;
  }
}
