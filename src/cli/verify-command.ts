import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { FirewallSpecError } from "../model/errors";
import { loadFirewallSpec } from "../model/load";
import { renderVerifyReport } from "../verify/report-table";
import { verifyArtifacts, VerifyError, widerCount, type VerifyReport } from "../verify/verify-artifacts";
import { processIo, reportCliErrors, type CliIo } from "./cli-io";
import { CliError, EXIT } from "./exit-codes";

interface VerifyOptions {
  readonly config?: string;
  readonly json?: boolean;
}

/** The stack's Terraform JSON: the file given, or `cdk.tf.json` in the stack directory given. */
function readStack(path: string): { json: Record<string, any>; file: string } {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, "cdk.tf.json") : path;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file (give a stack directory such as cdktf.out/stacks/agent-firewall, or its cdk.tf.json)" : (error as Error).message}`);
  }
  try {
    return { json: JSON.parse(text) as Record<string, any>, file };
  } catch (error) {
    throw new CliError(`${file} is not JSON: ${(error as Error).message}`);
  }
}

function report(path: string, options: VerifyOptions): VerifyReport {
  const { json } = readStack(path);
  try {
    const description = options.config === undefined ? undefined : { props: loadFirewallSpec(options.config), source: options.config };
    return verifyArtifacts(json, description);
  } catch (error) {
    if (error instanceof FirewallSpecError || error instanceof VerifyError) throw new CliError(error.message);
    throw error;
  }
}

/** `rapidclaw verify <stack>`: each layer of a synthesized stack against the firewall description. */
export function registerVerifyCommand(program: Command, io: CliIo = processIo): Command {
  return program
    .command("verify")
    .description("Check every layer of a synthesized stack (squid.conf, Docker networks, NetworkPolicies, Vault policies and logins, the gateway's firewall file, OpenClaw and Hermes hooks) against the firewall description: nothing may be wider")
    .argument("<stack>", "a synthesized stack directory (cdktf.out/stacks/<stack>) or its cdk.tf.json")
    .option("-c, --config <file>", "the firewall description (.yaml, .yml, .json); default: the description the stack ships to its tool gateway")
    .option("--json", "print the report as JSON")
    .addHelpText("after", `\nExit codes: ${EXIT.OK} no layer wider, ${EXIT.LAYER_WIDER} some layer wider than the description, ${EXIT.USAGE} bad arguments, unreadable stack or description.`)
    .action((path: string, options: VerifyOptions) => reportCliErrors(io, async () => {
      const result = report(path, options);
      io.out(options.json ? `${JSON.stringify({ ...result, wider: widerCount(result) }, null, 2)}\n` : renderVerifyReport(result));
      io.exit(widerCount(result) > 0 ? EXIT.LAYER_WIDER : EXIT.OK);
    }));
}
