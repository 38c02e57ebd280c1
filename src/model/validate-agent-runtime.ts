import { AgentRuntime } from "./types";

type Add = (path: ReadonlyArray<PropertyKey>, message: string) => void;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Variables an agent program's own configuration hangs on, which an agent of that runtime may not
 * set in `env`: the firewall sets the first ones (where the mounted configuration is, and that the
 * hook is accepted); `HERMES_SAFE_MODE` makes Hermes skip every hook, the gateway check included.
 */
export const RUNTIME_RESERVED_ENV: Readonly<Record<AgentRuntime, ReadonlyArray<string>>> = {
  [AgentRuntime.OPENCLAW]: ["OPENCLAW_CONFIG_PATH", "OPENCLAW_CONFIG_READONLY"],
  [AgentRuntime.HERMES]: ["HERMES_HOME", "HERMES_ACCEPT_HOOKS", "HERMES_SAFE_MODE"],
};

/** Whether the firewall deploys a tool gateway: some tool has an `upstream`, or `gateway` is set. */
export function hasToolGateway(input: Record<string, unknown>): boolean {
  return input.gateway !== undefined || Object.values(isRecord(input.tools) ? input.tools : {}).some((tool) => isRecord(tool) && tool.upstream !== undefined);
}

/** Problems of the agents' `runtime`: it needs the gateway's check endpoint, and owns some variables. */
export function checkAgentRuntimes(input: Record<string, unknown>, add: Add): void {
  const agents = Array.isArray(input.agents) ? input.agents : [];
  const gateway = hasToolGateway(input);
  agents.forEach((agent, i) => {
    if (!isRecord(agent) || typeof agent.runtime !== "string" || !Object.hasOwn(RUNTIME_RESERVED_ENV, agent.runtime)) return;
    const runtime = agent.runtime as AgentRuntime;
    if (!gateway) {
      add(["agents", i, "runtime"], `the ${runtime} hook asks the tool gateway before every tool call and no gateway is deployed (no tool has an upstream); add gateway: {} to deploy one, or remove runtime`);
    }
    for (const name of Object.keys(isRecord(agent.env) ? agent.env : {})) {
      if (RUNTIME_RESERVED_ENV[runtime].includes(name.toUpperCase())) {
        add(["agents", i, "env", name], `${name} belongs to the ${runtime} configuration the firewall mounts (${RUNTIME_RESERVED_ENV[runtime].join(", ")}); remove it`);
      }
    }
  });
}
