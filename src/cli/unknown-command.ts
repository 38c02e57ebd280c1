import type { Command } from "commander";

/**
 * The complaint about a command line that names a command `program` does not have (`rapidclaw
 * nosuch`, `rapidclaw hook nosuch`, `rapidclaw help nosuch`), naming it and listing the commands
 * there are; undefined for any other command line. Checked before commander parses, which would
 * print the help and exit 0 for `rapidclaw nosuch --help`.
 */
export function unknownCommandMessage(program: Command, args: ReadonlyArray<string>): string | undefined {
  let command = program;
  const names = [program.name()];
  for (let i = 0; i < args.length && command.commands.length > 0; i++) {
    const arg = args[i];
    if (arg.startsWith("-")) {
      const option = command.options.find((o) => o.short === arg || o.long === arg);
      if (option !== undefined && (option.required || option.optional) && !arg.includes("=")) i++;
      continue;
    }
    if (arg === "help") continue; // commander's own help command, at every level with commands
    const next = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (next === undefined) {
      const known = [...command.commands.map((c) => c.name()), "help"].join(", ");
      return `${names.join(" ")}: unknown command '${arg}'; the commands are ${known} (run ${names.join(" ")} --help)`;
    }
    command = next;
    names.push(next.name());
  }
  return undefined;
}
