/**
 * What an agent with a `runtime` gets mounted, read-only, so that its own program reads the
 * firewall's configuration of its role:
 *
 * - OpenClaw: the role's `openclaw.json` at `OPENCLAW_CONFIG_PATH` (with `OPENCLAW_CONFIG_READONLY=1`,
 *   since OpenClaw otherwise rewrites its config in place) and the gateway-check plugin directory
 *   the file's `plugins.load.paths` names.
 * - Hermes Agent: the role's `config.yaml` in `HERMES_HOME` (`hooks_auto_accept` and
 *   `HERMES_ACCEPT_HOOKS=1`: a Hermes without a terminal skips unapproved hooks) and the package's
 *   single-file hook program, which the `pre_tool_call` hook runs as `node <bundle> hook hermes`
 *   (the hook alone: the whole CLI's bundle is twenty times larger, and Docker uploads it per agent).
 */
import { byString } from "../model/order";
import { AgentRuntime } from "../model/types";
import { planOf, type FirewallSpec } from "../plan/firewall-spec";
import type { AgentFiles } from "../plan/agent-environment";
import type { PlannedAgent } from "../plan/plan";
import { HermesConfig } from "./hermes-config";
import { OPENCLAW_PLUGIN_PATH, OpenClawConfig } from "./openclaw-config";

/** A file mounted into an agent. */
type MountedFile = AgentFiles[string][number];

/** Where the agent programs find what is mounted for them. */
export const AGENT_RUNTIME_PATHS = {
  /** The role's `openclaw.json` (`OPENCLAW_CONFIG_PATH`); outside /etc/rapidclaw, which holds the role's profile documents. */
  openclawConfig: "/opt/rapidclaw/openclaw.json",
  /** The plugin directory (`plugins.load.paths`). */
  openclawPlugin: OPENCLAW_PLUGIN_PATH,
  /** Hermes' home (`HERMES_HOME`), where it reads `config.yaml` and writes its state; `/opt/data` in Hermes' own image. */
  hermesHome: "/opt/data",
  /** The package's single-file hook program. */
  hookBundle: "/opt/rapidclaw/rapidclaw-hook.cjs",
} as const;

/** The hook bundle's path in the package (`npm run build` writes it). */
export const HOOK_BUNDLE_PACKAGE_PATH = "dist/gateway/rapidclaw-hook.cjs";

/** Files of the package each runtime needs, as package path and path in the agent. */
const PACKAGE_FILES: Readonly<Record<AgentRuntime, ReadonlyArray<readonly [string, string]>>> = {
  [AgentRuntime.OPENCLAW]: ["index.js", "openclaw.plugin.json", "package.json"].map((name) => [`openclaw-plugin/${name}`, `${OPENCLAW_PLUGIN_PATH}/${name}`] as const),
  [AgentRuntime.HERMES]: [[HOOK_BUNDLE_PACKAGE_PATH, AGENT_RUNTIME_PATHS.hookBundle]],
};

/** The Hermes hook command: the mounted hook bundle under the image's `node`. */
export const HERMES_BUNDLE_HOOK_COMMAND = `node ${AGENT_RUNTIME_PATHS.hookBundle} hook hermes`;

/** What one agent's runtime needs mounted and set. */
export interface AgentRuntimeMount {
  readonly runtime: AgentRuntime;
  /** Files the same for every role (the plugin, the hook bundle), sorted by path. */
  readonly sharedFiles: MountedFile[];
  /** The role's configuration file. */
  readonly roleFiles: MountedFile[];
  /** Variables the runtime needs, sorted by name. */
  readonly env: [string, string][];
  /** Where the program writes its state, if the mount puts files there (Hermes' home). */
  readonly stateDirectory?: string;
}

/**
 * The mount of `agent`'s runtime, or undefined for an agent without one. `read` gives the text of
 * a file of the package by its path there; the role's gateway URL comes from the plan.
 */
export function agentRuntimeMount(spec: FirewallSpec, agent: PlannedAgent, read: (packagePath: string) => string): AgentRuntimeMount | undefined {
  if (agent.runtime === undefined) return undefined;
  const gatewayUrl = planOf(spec).gateway?.roles.find((r) => r.role === agent.role)?.url;
  // Validation refuses a runtime without a gateway; reaching this means the plan and the spec disagree.
  if (gatewayUrl === undefined) throw new Error(`agent "${agent.name}": runtime ${agent.runtime} needs the tool gateway's listener of role "${agent.role}", and the plan has none`);
  const sharedFiles = PACKAGE_FILES[agent.runtime].map(([packagePath, path]) => ({ path, content: read(packagePath) })).sort((a, b) => byString(a.path, b.path));
  // RAPIDCLAW_GATEWAY_URL, which the hook reads, is set on every agent of a firewall with a gateway.
  const env: [string, string][] = [];
  if (agent.runtime === AgentRuntime.OPENCLAW) {
    const config = OpenClawConfig.forRole(spec, agent.role, { gatewayUrl, pluginPath: AGENT_RUNTIME_PATHS.openclawPlugin });
    env.push(["OPENCLAW_CONFIG_PATH", AGENT_RUNTIME_PATHS.openclawConfig], ["OPENCLAW_CONFIG_READONLY", "1"]);
    return { runtime: agent.runtime, sharedFiles, roleFiles: [{ path: AGENT_RUNTIME_PATHS.openclawConfig, content: config.toJson() }], env: sorted(env) };
  }
  const config = HermesConfig.forRole(spec, agent.role, { gatewayUrl, hookCommand: HERMES_BUNDLE_HOOK_COMMAND });
  env.push(["HERMES_HOME", AGENT_RUNTIME_PATHS.hermesHome], ["HERMES_ACCEPT_HOOKS", "1"]);
  return {
    runtime: agent.runtime,
    sharedFiles,
    roleFiles: [{ path: `${AGENT_RUNTIME_PATHS.hermesHome}/config.yaml`, content: config.toYaml() }],
    env: sorted(env),
    stateDirectory: AGENT_RUNTIME_PATHS.hermesHome,
  };
}

/** An agent's environment with its runtime's variables added, sorted by name. */
export function withRuntimeEnvironment(env: ReadonlyArray<readonly [string, string]>, mount: AgentRuntimeMount | undefined): [string, string][] {
  return sorted([...new Map([...env, ...(mount?.env ?? [])]).entries()]);
}

function sorted(env: [string, string][]): [string, string][] {
  return env.sort(([a], [b]) => byString(a, b));
}
