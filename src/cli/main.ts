#!/usr/bin/env node
import { Command } from "commander";
import { gatewayCommand } from "./gateway-command";

/** The `rapidclaw` program: one subcommand per file, registered here. */
const program = new Command("rapidclaw").description("Run-time parts of the Rapid Claw agent firewall.");
program.addCommand(gatewayCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
