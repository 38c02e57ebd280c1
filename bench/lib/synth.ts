import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import type { Construct } from "constructs";
import { STACK_ID } from "./stack-id";

export { STACK_ID };

/** Builds one stack under the app; returns nothing, the stack is found by its id. */
export type StackBuilder = (app: Construct, stackId: string) => unknown;

/** A temporary output directory, removed with `dispose`. */
export function temporaryOutdir(label: string): { readonly path: string; dispose(): void } {
  const path = mkdtempSync(join(tmpdir(), `rapidclaw-bench-${label}-`));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** Wall-clock and CPU time (user + system, all threads of the process) of one run, in ms. */
export interface RunTime {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/**
 * The timed unit of every variant: a new App writing to `outdir`, the stack built, `app.synth()`
 * (validations, the stack's JSON and the manifest written to disk).
 */
export function timeSynth(outdir: string, build: StackBuilder): RunTime {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const app = new App({ outdir });
  build(app, STACK_ID);
  app.synth();
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

/** The stack's JSON as written by the last synth into `outdir`. */
export function readSynthesized(outdir: string): string {
  return readFileSync(join(outdir, "stacks", STACK_ID, "cdk.tf.json"), "utf8");
}

/** Throws, showing the first difference, unless `actual` is byte-identical to `expected`. */
export function assertIdentical(expected: string, actual: string, what: string): void {
  if (expected === actual) return;
  let at = 0;
  while (at < Math.min(expected.length, actual.length) && expected[at] === actual[at]) at++;
  const line = expected.slice(0, at).split("\n").length;
  const excerpt = (text: string) => JSON.stringify(text.slice(Math.max(0, at - 80), at + 80));
  throw new Error(
    `${what}: synthesized JSON is NOT byte-identical to the library's (${expected.length} vs ${actual.length} bytes); ` +
      `first difference at character ${at}, line ${line}\n  library: ${excerpt(expected)}\n  ${what}: ${excerpt(actual)}\n` +
      "The floors are read off the library's stack: extend bench/floors/hand-written.ts or generic.ts for what they do not replay yet.",
  );
}
