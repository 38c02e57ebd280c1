import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

let root: string | undefined;

/** The package's root: the nearest directory above this file holding its package.json (from the sources and from dist/src alike); found once per process. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "@rapidclaw/agent-firewall") return (root = dir);
    if (dirname(dir) === dir) throw new Error(`no package.json of @rapidclaw/agent-firewall above ${__dirname}; reinstall the package`);
  }
}

const texts = new Map<string, string>();

/**
 * The text of a file of this package that synthesized resources carry (the OpenClaw plugin, the
 * single-file CLI), by its path in the package; read once per process.
 */
export function readPackageFile(packagePath: string): string {
  const cached = texts.get(packagePath);
  if (cached !== undefined) return cached;
  const file = join(packageRoot(), packagePath);
  if (!existsSync(file)) {
    throw new Error(`${packagePath} is missing from the package (${file}); in a checkout of the sources run "npm run build", which writes it`);
  }
  const text = readFileSync(file, "utf8");
  texts.set(packagePath, text);
  return text;
}
