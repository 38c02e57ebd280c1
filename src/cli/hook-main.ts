#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { BLOCK, hookCommand } from "./hook-command";

/**
 * `rapidclaw` with the agent hooks only: the program of the small bundle agents run their hook
 * from (`node rapidclaw-hook.cjs hook hermes …`). Every failure, bad arguments included, exits
 * BLOCK, the code agents always obey.
 */
export function hookProgram(): Command {
  const program = new Command("rapidclaw").description("Rapid Claw agent hooks: ask the tool gateway before each tool call");
  program.exitOverride((error: CommanderError) => {
    throw error.exitCode === 0 ? error : new CommanderError(BLOCK, error.code, error.message);
  });
  return program.addCommand(hookCommand());
}

if (require.main === module) {
  hookProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      if (!(error instanceof CommanderError)) process.stderr.write(`rapidclaw hook: ${(error as Error).message}\n`);
      process.exitCode = error instanceof CommanderError ? error.exitCode : BLOCK;
    });
}
