/**
 * The part of Hermes Agent's `config.yaml` that the firewall owns for one role:
 *
 * ```yaml
 * toolsets: [search]                # the smallest core toolsets holding the role's tools
 * platform_toolsets:
 *   cli: [search]
 * hooks_auto_accept: true           # without it a non-interactive Hermes skips the hook (fail open)
 * hooks:
 *   pre_tool_call:
 *     - matcher: ".*"               # every tool: what is not the role's is blocked by the hook
 *       command: rapidclaw hook hermes --timeout-ms 9500 --tool web_search=web_search:READ
 *       timeout: 10
 *       fail_closed: true
 *   on_session_end:                 # only for a role with task limits: ends the run's task
 *     - command: rapidclaw hook hermes --timeout-ms 9500
 *       timeout: 10
 * model:
 *   provider: custom                # Hermes reads base_url for its custom provider only
 *   base_url: http://…:8080/tools/openai
 * ```
 *
 * No `proxy.extra_allowed_hosts`: that key belongs to Hermes' credential proxy for its Docker
 * terminal sandbox, not to the agent's own egress; the role's hosts are enforced by the egress
 * proxy (Squid), whatever the agent is configured to do.
 */
import { hasTaskLimits } from "../gateway/task-limits";
import { FirewallSpecError } from "../model/errors";
import { HERMES_TOOLSETS, hermesToolsetOf } from "../model/agent-tools";
import { byString } from "../model/order";
import type { FirewallSpec } from "../plan/firewall-spec";
import { agentToolGrants, frontedModelApi, gatewayToolUrl, gatewayUrlProblems, modelToolProblems, roleOf } from "./agent-tool-grants";

/** The hook command as the package installs it (`rapidclaw` on the agent's PATH). */
export const HERMES_HOOK_COMMAND = "rapidclaw hook hermes";

/**
 * What the hook leaves of Hermes' timeout for starting Node and answering: it stops waiting for
 * the gateway this much earlier and blocks. A hook Hermes has to kill lets the call through.
 */
const HOOK_START_MARGIN_MS = 500;

/** Options of `HermesConfig.forRole`. */
export interface HermesConfigOptions {
  /**
   * The role's gateway listener as the agent reaches it, `http://<host>:<port>`; needed with
   * `modelTool`. The hook itself reads `RAPIDCLAW_GATEWAY_URL` from the agent's environment.
   * @default - no model base URL
   */
  readonly gatewayUrl?: string;
  /**
   * The tool whose upstream is the agent's model API (OpenAI-compatible: Hermes' `custom` provider
   * speaks chat completions): `model.base_url` becomes `<gatewayUrl>/tools/<tool>`, with
   * `model.provider: custom`. The model's name stays yours (`model.default`, or `hermes -m`).
   * @default - with `gatewayUrl`, the first tool by name the role may POST to whose upstream is
   * OpenAI's API (`HermesConfig.MODEL_API_BASE_URL`, or a prefix of it: the rest of its path is
   * appended); without such a tool the model section is left to you
   */
  readonly modelTool?: string;
  /**
   * The command Hermes runs, before the `--tool` arguments: `rapidclaw hook hermes`, or the
   * absolute path of the mounted `rapidclaw` followed by `hook hermes`.
   * @default "rapidclaw hook hermes"
   */
  readonly hookCommand?: string;
  /**
   * Seconds Hermes waits for the hook, 1 to 300. The hook is given `--timeout-ms` half a second
   * shorter: it gives up on the gateway before Hermes gives up on it, and blocks.
   * @default 10
   */
  readonly hookTimeoutSec?: number;
}

/**
 * The `config.yaml` fragment of one role, in Hermes' own snake_case keys. TypeScript only
 * (`@jsii ignore`: jsii admits camelCase fields only); other languages take `toYaml()`.
 * @jsii ignore
 */
export interface HermesConfigDocument {
  readonly toolsets: string[];
  readonly platform_toolsets: { readonly cli: string[] };
  readonly hooks_auto_accept: boolean;
  readonly hooks: {
    readonly pre_tool_call: { readonly matcher: string; readonly command: string; readonly timeout: number; readonly fail_closed: boolean }[];
    /** A role with task limits: the end of each run ends its task at the gateway. */
    readonly on_session_end?: { readonly command: string; readonly timeout: number }[];
  };
  readonly model?: { readonly provider: string; readonly base_url: string };
}

/**
 * The smallest core toolset of each tool, less those whose tools another chosen toolset already
 * holds (`web_search` and `web_extract` give `web`, not `search` and `web`), sorted.
 */
function fewestToolsets(tools: ReadonlyArray<string>): string[] {
  const chosen = new Set(tools.map((tool) => hermesToolsetOf(tool) as string));
  for (const toolset of [...chosen].sort((a, b) => HERMES_TOOLSETS[a].length - HERMES_TOOLSETS[b].length)) {
    const elsewhere = (tool: string) => [...chosen].some((other) => other !== toolset && HERMES_TOOLSETS[other].includes(tool));
    if (tools.filter((tool) => HERMES_TOOLSETS[toolset].includes(tool)).every(elsewhere)) chosen.delete(toolset);
  }
  return [...chosen].sort(byString);
}

/** The model API a fronted tool's upstream is matched against: Hermes' custom provider speaks OpenAI's chat completions. */
const HERMES_MODEL_API_BASE_URL = "https://api.openai.com/v1";

/** Hermes Agent's native configuration of one role. */
export class HermesConfig {
  /** The model API a tool must front for Hermes' model calls to go through it (`modelTool`'s default). */
  public static readonly MODEL_API_BASE_URL = HERMES_MODEL_API_BASE_URL;
  /** The hook command as the package installs it (`rapidclaw` on the agent's PATH). */
  public static readonly HOOK_COMMAND = HERMES_HOOK_COMMAND;

  /** The fragment for `role`; throws FirewallSpecError listing every bad option. Merge it into the agent's `config.yaml`. */
  public static forRole(spec: FirewallSpec, role: string, options: HermesConfigOptions = {}): HermesConfig {
    const planned = roleOf(spec, role);
    const timeout = options.hookTimeoutSec ?? 10;
    const command = options.hookCommand ?? HERMES_HOOK_COMMAND;
    const problems = [
      ...(Number.isInteger(timeout) && timeout >= 1 && timeout <= 300 ? [] : [{ path: "hookTimeoutSec", message: `hookTimeoutSec must be a whole number from 1 to 300 (Hermes clamps longer waits), got ${timeout}` }]),
      ...(/^[^\s'"\\]+( [^\s'"\\]+)*$/.test(command) ? [] : [{ path: "hookCommand", message: `hookCommand must be words separated by single spaces, without quotes, such as /opt/rapidclaw/bin/rapidclaw hook hermes` }]),
      ...(options.modelTool !== undefined && options.gatewayUrl === undefined ? [{ path: "gatewayUrl", message: "modelTool needs gatewayUrl, the address the model calls go to" }] : []),
      ...(options.gatewayUrl === undefined ? [] : gatewayUrlProblems(options.gatewayUrl)),
      ...(options.modelTool === undefined ? [] : modelToolProblems(spec, planned, options.modelTool, "modelTool")),
    ];
    if (problems.length > 0) throw new FirewallSpecError(problems);

    const gatewayUrl = options.gatewayUrl;
    const fronting = options.modelTool !== undefined ? { tool: options.modelTool, path: "" } : gatewayUrl === undefined ? undefined : frontedModelApi(spec, planned, HERMES_MODEL_API_BASE_URL);
    const allowed = agentToolGrants(spec, planned, "hermes").filter((g) => g.allowed);
    const toolsets = fewestToolsets(allowed.map((g) => g.agentTool));
    const toolArgs = allowed.map((g) => ` --tool ${g.agentTool}=${g.tool}:${g.access}`).join("");
    const hookTimeout = ` --timeout-ms ${timeout * 1000 - HOOK_START_MARGIN_MS}`;
    return new HermesConfig({
      toolsets,
      platform_toolsets: { cli: [...toolsets] },
      hooks_auto_accept: true,
      hooks: {
        pre_tool_call: [{ matcher: ".*", command: `${command}${hookTimeout}${toolArgs}`, timeout, fail_closed: true }],
        ...(hasTaskLimits(planned.limits) && { on_session_end: [{ command: `${command}${hookTimeout}`, timeout }] }),
      },
      // Hermes uses base_url only for its custom provider, and refuses to start without a provider.
      ...(fronting !== undefined && gatewayUrl !== undefined && { model: { provider: "custom", base_url: `${gatewayToolUrl(gatewayUrl, fronting.tool)}${fronting.path}` } }),
    });
  }

  private constructor(
    /**
     * The fragment as data (TypeScript only; other languages read `toYaml()`).
     * @jsii ignore
     */
    public readonly document: HermesConfigDocument,
  ) {}

  /** The fragment as YAML (no anchors, no tags: Hermes reads it with PyYAML's safe_load). */
  public toYaml(): string {
    const { Document, isScalar, visit } = require("yaml") as typeof import("yaml");
    const document = new Document(this.document, { aliasDuplicateObjects: false });
    // A regex in quotes, so that no YAML reader takes it for anything but a string.
    visit(document, { Pair: (_, pair) => { if (isScalar(pair.key) && pair.key.value === "matcher" && isScalar(pair.value)) pair.value.type = "QUOTE_DOUBLE"; } });
    return `# Rapid Claw: the firewall's part of Hermes Agent's config.yaml, generated from the firewall spec.\n${document.toString({ lineWidth: 0 })}`;
  }
}
