import { CliError } from "./exit-codes";

/** Where a command reads and writes, and how it reports its exit code (tests pass their own). */
export interface CliIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly exit: (code: number) => void;
  /** Ends `--follow`. @default - SIGINT or SIGTERM */
  readonly stop?: AbortSignal;
}

/** The process's own streams. */
export const processIo: CliIo = {
  stdin: process.stdin,
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  exit: (code) => void (process.exitCode = code),
};

/** Stops on SIGINT/SIGTERM unless the caller gave its own signal. */
export function stopSignal(io: CliIo): AbortSignal {
  if (io.stop) return io.stop;
  const controller = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => controller.abort());
  return controller.signal;
}

/** Reports a CliError in one line with its exit code; anything else is a bug and propagates. */
export function reportCliErrors(io: CliIo, run: () => Promise<void>): Promise<void> {
  return run().catch((error: unknown) => {
    if (!(error instanceof CliError)) throw error;
    io.err(`rapidclaw: ${error.message}\n`);
    io.exit(error.code);
  });
}
