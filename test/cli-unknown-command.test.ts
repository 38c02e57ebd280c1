/**
 * `rapidclaw` with a command it does not have: exit 2 and one line on stderr naming the command
 * and listing the commands, whatever follows it (`--help` too). Run as shipped: the bundle.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT } from "../src/cli/exit-codes";
import { rapidclawProgram } from "../src/cli/main";
import { GATEWAY_BUNDLE_PATH } from "../src/constructs/gateway-bundle";

const BUNDLE = join(__dirname, "..", GATEWAY_BUNDLE_PATH);
const rapidclaw = (...args: string[]) => spawnSync(process.execPath, [BUNDLE, ...args], { encoding: "utf8", timeout: 30_000 });
// Every command the program registers, in its order, then help: the message lists them all.
const COMMANDS = `the commands are ${[...rapidclawProgram().commands.map((c) => c.name()), "help"].join(", ")}`;

describe("rapidclaw: unknown commands", () => {
  it.each([["nosuch"], ["nosuch", "--help"], ["nosuch", "-h"], ["help", "nosuch"], ["nosuch", "--config", "x.yaml"], ["--help", "nosuch"]].map((args) => ({ args })))("rapidclaw $args exits 2 naming the command and listing the commands", ({ args }) => {
    const run = rapidclaw(...args);
    expect(run.status).toBe(EXIT.USAGE);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(`rapidclaw: unknown command 'nosuch'; ${COMMANDS} (run rapidclaw --help)\n`);
  });

  it("below a command with commands too", () => {
    const run = rapidclaw("hook", "nosuch", "--help");
    expect(run.status).toBe(EXIT.USAGE);
    expect(run.stderr).toBe("rapidclaw hook: unknown command 'nosuch'; the commands are hermes, help (run rapidclaw hook --help)\n");
  });

  it("leaves known commands and help alone", () => {
    for (const args of [["--help"], ["help", "gateway"], ["gateway", "--help"], ["hook", "hermes", "--help"], ["logs", "--help"]]) {
      const run = rapidclaw(...args);
      expect(run.status, args.join(" ")).toBe(0);
      expect(run.stdout, args.join(" ")).toContain("Usage: rapidclaw");
    }
    const missing = rapidclaw("gateway");
    expect(missing.status).toBe(EXIT.USAGE);
    expect(missing.stderr).toContain("required option '-c, --config <file>' not specified");
  });
});
