import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The tools' keys, read from a directory holding one file per tool named after it (as Vault Agent
 * renders them: `<dir>/<tool>`, the key alone, a trailing newline ignored). A rotation replaces the
 * file, ideally by atomic rename; the store re-reads a file when the directory reports a change and
 * at every poll, and swaps the value in one assignment, so a call in flight keeps the key it read
 * and the next call gets the new one. A file that is empty (a writer mid-write) keeps the old key;
 * a file that is gone makes the key unavailable.
 */
export class KeyStore {
  private readonly keys = new Map<string, string>();
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string,
    private readonly tools: ReadonlyArray<string>,
    private readonly pollMs = 1_000,
  ) {}

  /**
   * Reads every key once and starts following changes. Without tools there is nothing to follow,
   * and no directory either: a Docker gateway whose tools hold no keys mounts no key volume.
   */
  async start(): Promise<void> {
    if (this.tools.length === 0) return;
    await Promise.all(this.tools.map((tool) => this.reload(tool)));
    this.watcher = watch(this.dir, (_event, file) => {
      const tool = file?.toString();
      if (tool !== undefined && this.tools.includes(tool)) void this.reload(tool);
    });
    this.watcher.on("error", () => undefined);
    this.poller = setInterval(() => this.tools.forEach((tool) => void this.reload(tool)), this.pollMs);
    this.poller.unref();
  }

  /** The current key of a tool, or undefined when it is not loaded. */
  get(tool: string): string | undefined {
    return this.keys.get(tool);
  }

  /** Tools whose key is not loaded. */
  missing(): string[] {
    return this.tools.filter((tool) => !this.keys.has(tool));
  }

  stop(): void {
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
  }

  private async reload(tool: string): Promise<void> {
    try {
      const value = (await readFile(join(this.dir, tool), "utf8")).replace(/\r?\n$/, "");
      if (value !== "") this.keys.set(tool, value);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") this.keys.delete(tool);
    }
  }
}
