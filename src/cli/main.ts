#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { registerAlertsCommand } from "./alerts-command";
import { EXIT } from "./exit-codes";
import { gatewayCommand } from "./gateway-command";
import { hookCommand } from "./hook-command";
import { registerLogsCommand } from "./logs-command";
import { registerProbeCommand } from "./probe-command";
import { proxyEventsCommand } from "./proxy-events-command";
import { registerReplayCommand } from "./replay-command";
import { unknownCommandMessage } from "./unknown-command";
import { registerVerifyCommand } from "./verify-command";

/** The package's version: written into the bundle when it is built (see scripts/bundle-gateway.ts); from package.json when run from the sources. */
declare const RAPIDCLAW_VERSION: string | undefined;
const version = typeof RAPIDCLAW_VERSION === "string" ? RAPIDCLAW_VERSION : (require("../../package.json") as { version: string }).version;

/** The `rapidclaw` program with its commands. Bad arguments exit with EXIT.USAGE (commander's own would be 1, which `alerts` uses). */
export function rapidclawProgram(): Command {
  const program = new Command("rapidclaw")
    .description("Rapid Claw agent firewall: the tool gateway, agent hooks, the proxy's events, their logs and alerts, verifying a stack, probing a deployment and replaying logs against a candidate")
    .version(version, "-V, --version", "print the version of @rapidclaw/agent-firewall");
  // Set before the commands are added, so that they inherit it.
  program.exitOverride((error: CommanderError) => {
    throw error.exitCode === 0 ? error : new CommanderError(EXIT.USAGE, error.code, error.message);
  });
  program.addCommand(gatewayCommand().copyInheritedSettings(program));
  program.addCommand(proxyEventsCommand().copyInheritedSettings(program));
  program.addCommand(hookCommand());
  registerLogsCommand(program);
  registerAlertsCommand(program);
  registerVerifyCommand(program);
  registerProbeCommand(program);
  registerReplayCommand(program);
  return program;
}

if (require.main === module) {
  const unknown = unknownCommandMessage(rapidclawProgram(), process.argv.slice(2));
  if (unknown !== undefined) {
    process.stderr.write(`${unknown}\n`);
    process.exitCode = EXIT.USAGE;
  } else {
    rapidclawProgram()
      .parseAsync(process.argv)
      .catch((error: unknown) => {
        if (error instanceof CommanderError) {
          process.exitCode = error.exitCode; // commander has printed the message
          return;
        }
        process.stderr.write(`rapidclaw: ${(error as Error).stack ?? String(error)}\n`);
        process.exitCode = 70;
      });
  }
}
