#!/usr/bin/env node
import { Command } from "commander";
import { registerAlertsCommand } from "./alerts-command";
import { registerLogsCommand } from "./logs-command";

/** The `rapidclaw` program with its commands. */
export function rapidclawProgram(): Command {
  const program = new Command("rapidclaw").description("Rapid Claw agent firewall: read its event logs and alerts");
  registerLogsCommand(program);
  registerAlertsCommand(program);
  return program;
}

if (require.main === module) {
  rapidclawProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.stderr.write(`rapidclaw: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 70;
    });
}
