import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KeyStore } from "../../src/gateway/key-store";

describe("KeyStore", () => {
  const stores: KeyStore[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    stores.splice(0).forEach((store) => store.stop());
    dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  });

  it("without tools starts without its directory: a Docker gateway whose tools hold no keys has no key volume", async () => {
    const store = new KeyStore(join(tmpdir(), "rapidclaw-no-such-key-dir"), []);
    stores.push(store);
    await expect(store.start()).resolves.toBeUndefined();
    expect(store.missing()).toEqual([]);
  });

  it("reads each tool's key from the file named after it, the trailing newline left out", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rapidclaw-keys-"));
    dirs.push(dir);
    writeFileSync(join(dir, "database"), "key-1\n");
    const store = new KeyStore(dir, ["database", "web_search"]);
    stores.push(store);
    await store.start();
    expect(store.get("database")).toBe("key-1");
    expect(store.missing()).toEqual(["web_search"]);
  });
});
