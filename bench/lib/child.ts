import { spawnSync } from "node:child_process";

/** A finished child: wall time from spawn to exit as seen by the parent, and its last stdout line parsed. */
export interface ChildResult<T> {
  readonly wallMs: number;
  readonly report: T;
}

/**
 * Runs `node <script> <args>` in a fresh process and waits for it. Throws with the child's
 * stderr if it fails, so a wrong floor or a crash stops the benchmark loudly.
 */
export function runNode<T>(script: string, args: ReadonlyArray<string>, options: { env?: NodeJS.ProcessEnv; nodeFlags?: ReadonlyArray<string> } = {}): ChildResult<T> {
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, [...(options.nodeFlags ?? []), script, ...args], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: options.env ?? process.env,
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (child.error) throw child.error;
  if (child.status !== 0) {
    throw new Error(`child failed (exit ${child.status}${child.signal ? `, ${child.signal}` : ""}): node ${script} ${args.join(" ")}\n${child.stderr}`);
  }
  const lines = child.stdout.trim().split("\n");
  return { wallMs, report: JSON.parse(lines[lines.length - 1]) as T };
}
