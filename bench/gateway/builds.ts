import { execFileSync, execSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

/**
 * The gateway CLI of another commit, compiled file by file as `npm run bench:gateway` compiles the
 * worktree's (so its profile and CPU compare like for like), in a temporary directory that borrows
 * this checkout's node_modules: an earlier commit runs beside the current one in the same run, an
 * A/B of a change. Returns the compiled `main.js`.
 */
export function gatewayAt(commit: string): string {
  const sha = execFileSync("git", ["rev-parse", "--verify", `${commit}^{commit}`], { cwd: ROOT, encoding: "utf8" }).trim();
  const dir = join(tmpdir(), `rapidclaw-gateway-${sha.slice(0, 12)}`);
  const main = join(dir, "dist", "gateway-bench", "src", "cli", "main.js");
  if (existsSync(main)) return main;
  mkdirSync(dir, { recursive: true });
  execSync(`git archive ${sha} | tar -x -C ${JSON.stringify(dir)}`, { cwd: ROOT });
  if (!existsSync(join(dir, "node_modules"))) symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "bench/gateway/tsconfig.cli.json"], { cwd: dir, stdio: "inherit" });
  // The CLI reads its version from the package.json two levels above it when it is not a bundle.
  copyFileSync(join(dir, "package.json"), join(dir, "dist", "gateway-bench", "package.json"));
  return main;
}
