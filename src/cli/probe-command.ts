import { randomBytes } from "node:crypto";
import { type Command, InvalidArgumentError } from "commander";
import { FirewallSpecError } from "../model/errors";
import { loadFirewallSpec } from "../model/load";
import { compileFirewall } from "../plan/plan";
import { makeAttempt } from "../probe/attempts";
import { probeChannels, type ProbeChannel } from "../probe/channels";
import { probeTargets, ProbeTargetError } from "../probe/probe-targets";
import { probeReport, renderProbeReport, type Observation } from "../probe/verdicts";
import { processIo, reportCliErrors, type CliIo } from "./cli-io";
import { CliError, EXIT } from "./exit-codes";

interface ProbeOptions {
  readonly config: string;
  readonly role?: string;
  readonly proxy?: string;
  readonly gateway?: string;
  readonly hostAddress?: string[];
  readonly hostPort?: number[];
  readonly vaultAddress?: string;
  readonly timeoutMs: number;
  readonly json?: boolean;
}

const positive = (value: string, what: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive whole number`);
  return n;
};
const collect = <T>(parse: (v: string) => T) => (value: string, previous: T[] | undefined) => [...(previous ?? []), parse(value)];

/** The role and its channels, from the description, the flags and the environment; a CliError says what is missing. */
function plannedChannels(options: ProbeOptions, env: NodeJS.ProcessEnv): { role: string; channels: ProbeChannel[] } {
  const role = options.role ?? env.RAPIDCLAW_ROLE;
  if (role === undefined || role === "") throw new CliError("no role: run the probe with the role's environment (RAPIDCLAW_ROLE) or give --role");
  try {
    const plan = compileFirewall(loadFirewallSpec(options.config), options.config);
    const targets = probeTargets(env, { ...options, hostPorts: options.hostPort }, { vaultAddress: plan.vault.address, nonce: randomBytes(6).toString("hex") });
    return { role, channels: probeChannels(plan, role, targets) };
  } catch (error) {
    if (error instanceof FirewallSpecError || error instanceof ProbeTargetError) throw new CliError(error.message);
    throw error;
  }
}

/** `rapidclaw probe`: tries every way out from inside a role and says which are open. */
export function registerProbeCommand(program: Command, io: CliIo = processIo, env: NodeJS.ProcessEnv = process.env): Command {
  return program
    .command("probe")
    .description("Try every way out from inside a role (as its agents run: its network, user and environment) and say which channels are open: the allowed host must pass, everything else must be closed")
    .requiredOption("-c, --config <file>", "the firewall description (.yaml, .yml, .json)")
    .option("-r, --role <role>", "the role probed; default: RAPIDCLAW_ROLE")
    .option("--proxy <url>", "the role's proxy; default: HTTPS_PROXY")
    .option("--gateway <url>", "the role's tool gateway; default: RAPIDCLAW_GATEWAY_URL")
    .option("--host-address <address>", "an address of the host the role runs on (repeatable); default on Docker: the role network's gateway", collect(String))
    .option("--host-port <port>", "a port tried on the host (repeatable); default: 22, 80, 443, 2375", collect((v) => positive(v, "--host-port")))
    .option("--vault-address <url>", "Vault's URL; default: VAULT_ADDR, else vault.address")
    .option("--timeout-ms <ms>", "how long each attempt waits", (v) => positive(v, "--timeout-ms"), 3000)
    .option("--json", "print the report as JSON")
    .addHelpText("after", `\nExit codes: ${EXIT.OK} every channel as it must be, ${EXIT.CHANNEL_WRONG} some channel open that must be closed (or the allowed host failed), ${EXIT.USAGE} bad arguments or description.`)
    .action((options: ProbeOptions) => reportCliErrors(io, async () => {
      const { role, channels } = plannedChannels(options, env);
      const observations = new Map<string, Observation>(await Promise.all(channels.filter((c) => c.attempt !== undefined)
        .map(async (c) => [c.id, await makeAttempt(c.attempt!, options.timeoutMs)] as const)));
      const report = probeReport(role, channels, observations);
      io.out(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderProbeReport(report));
      io.exit(report.failed > 0 ? EXIT.CHANNEL_WRONG : EXIT.OK);
    }));
}
