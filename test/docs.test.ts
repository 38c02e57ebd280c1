/**
 * The documentation is checked like code: every TypeScript snippet compiles against the library,
 * every shell snippet that can run here runs (and every one that cannot says why), every shown
 * output is what the command prints, JSON and YAML snippets parse, and every relative link and
 * anchor exists.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import * as ts from "typescript";
import { parseAllDocuments } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { anchorsOf, documentationFiles, fencedBlocks, relativeLinks, where } from "./support/markdown-docs";

const REPO = resolve(__dirname, "..");
const BUNDLE = join(REPO, "dist", "gateway", "rapidclaw-gateway.cjs");
const files = documentationFiles(REPO);
const blocks = files.flatMap((file) => fencedBlocks(REPO, file));
const byLang = (...langs: string[]) => blocks.filter((b) => langs.includes(b.lang));

/** Languages a block may be written in; anything else (or none) is a mistake to fix. */
const LANGUAGES = ["ts", "sh", "json", "yaml", "text", "hcl", "ini"];

const scratch = mkdtempSync(join(tmpdir(), "rapidclaw-docs-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A `rapidclaw` on PATH that runs the bundle, as the package's bin does. */
function binDir(): string {
  const bin = join(scratch, "bin");
  if (!existsSync(bin)) {
    spawnSync("mkdir", ["-p", bin]);
    writeFileSync(join(bin, "rapidclaw"), `#!/bin/sh\nexec "${process.execPath}" "${BUNDLE}" "$@"\n`);
    chmodSync(join(bin, "rapidclaw"), 0o755);
  }
  return bin;
}

function runShell(script: string, cwd: string) {
  return spawnSync("bash", ["-euo", "pipefail", "-c", script.replace(/\bnpx rapidclaw\b/g, "rapidclaw")], {
    cwd,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, PATH: `${binDir()}:${process.env.PATH}` },
  });
}

describe("documentation", () => {
  it("has pages, and every fenced block names its language", () => {
    expect(files.length).toBeGreaterThan(10);
    expect(blocks.filter((b) => !LANGUAGES.includes(b.lang)).map((b) => `${where(REPO, b)} (${b.lang || "no language"})`)).toEqual([]);
  });

  it("keeps the README short: at most 250 lines", () => {
    expect(readFileSync(join(REPO, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(250);
  });

  it("compiles every TypeScript snippet against the library", () => {
    const snippets = byLang("ts");
    expect(snippets.length).toBeGreaterThan(8);
    // Each snippet is a module of its own beside the documents (so node_modules resolves), with the
    // package name mapped to the sources. Names a snippet uses without defining come from
    // test/support/doc-snippet-globals.d.ts (a user's own stack, spec, and the like).
    const virtual = new Map(snippets.map((b, i) => [join(REPO, "docs", `__snippet_${i}.ts`), `${b.code}\nexport {};\n`]));
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10,
      strict: true, esModuleInterop: true, skipLibCheck: true, noEmit: true, types: ["node"],
      baseUrl: REPO, paths: { "@rapidclaw/agent-firewall": ["src/index.ts"] },
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, version) => virtual.has(name) ? ts.createSourceFile(name, virtual.get(name) as string, version) : getSourceFile(name, version);
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => virtual.has(name) || fileExists(name);
    const readFile = host.readFile.bind(host);
    host.readFile = (name) => virtual.get(name) ?? readFile(name);
    const program = ts.createProgram([...virtual.keys(), join(REPO, "test", "support", "doc-snippet-globals.d.ts")], options, host);
    const names = [...virtual.keys()];
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const index = d.file === undefined ? -1 : names.indexOf(d.file.fileName);
      const block = snippets[index];
      const at = block !== undefined && d.start !== undefined ? `${block.file}:${block.line + 1 + d.file!.getLineAndCharacterOfPosition(d.start).line}` : d.file?.fileName ?? "";
      return `${at}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
    expect(problems).toEqual([]);
  });

  it("says for every shell snippet whether it runs here, and why not", () => {
    const undecided = byLang("sh").filter((b) => !/^(run|not run: .+)$/.test(b.directive ?? ""));
    expect(undecided.map((b) => `${where(REPO, b)}: add <!-- docs-test: run --> or <!-- docs-test: not run: <why> -->`)).toEqual([]);
  });

  it.skipIf(!existsSync(BUNDLE))("runs every shell snippet marked to run, from a scratch directory", () => {
    const runnable = byLang("sh").filter((b) => b.directive === "run");
    expect(runnable.length).toBeGreaterThan(0);
    for (const block of runnable) {
      const result = runShell(block.code, scratch);
      expect({ at: where(REPO, block), status: result.status, stderr: result.stderr }).toEqual({ at: where(REPO, block), status: 0, stderr: expect.any(String) });
    }
  });

  it.skipIf(!existsSync(BUNDLE))("shows exactly what each documented command prints", () => {
    const outputs = blocks.filter((b) => b.directive?.startsWith("output of "));
    expect(outputs.length).toBeGreaterThan(0);
    for (const block of outputs) {
      const m = /^output of `([^`]+)` in (\S+)$/.exec(block.directive as string);
      expect(m, `${where(REPO, block)}: write <!-- docs-test: output of \`command\` in <dir> -->`).not.toBeNull();
      const [, command, dir] = m as RegExpExecArray;
      const result = runShell(command, join(REPO, dir));
      expect(result.status, `${where(REPO, block)}: ${command}: ${result.stderr}`).toBeLessThanOrEqual(3);
      expect(`${where(REPO, block)}\n${result.stdout.trimEnd()}`).toBe(`${where(REPO, block)}\n${block.code.trimEnd()}`);
    }
  });

  it("parses every JSON and YAML snippet (JSON log snippets line by line)", () => {
    const bad: string[] = [];
    for (const block of byLang("json")) {
      try { JSON.parse(block.code); } catch {
        for (const line of block.code.split("\n").filter((l) => l.trim() !== "")) {
          try { JSON.parse(line); } catch (error) { bad.push(`${where(REPO, block)}: ${(error as Error).message}`); break; }
        }
      }
    }
    for (const block of byLang("yaml")) {
      for (const doc of parseAllDocuments(block.code)) if (doc.errors.length > 0) bad.push(`${where(REPO, block)}: ${doc.errors[0].message}`);
    }
    expect(bad).toEqual([]);
  });

  it("links only to files and anchors that exist", () => {
    const anchorCache = new Map<string, Set<string>>();
    const anchors = (path: string) => {
      if (!anchorCache.has(path)) anchorCache.set(path, anchorsOf(readFileSync(path, "utf8")));
      return anchorCache.get(path) as Set<string>;
    };
    const broken: string[] = [];
    for (const file of files) {
      for (const { target, line } of relativeLinks(REPO, file)) {
        const [path, anchor] = target.split("#");
        const absolute = path === "" ? join(REPO, file) : resolve(REPO, dirname(file), path);
        if (!existsSync(absolute)) { broken.push(`${file}:${line}: ${target} (no such file)`); continue; }
        if (anchor !== undefined && absolute.endsWith(".md") && !anchors(absolute).has(decodeURIComponent(anchor))) broken.push(`${file}:${line}: ${target} (no such anchor)`);
      }
    }
    expect(broken).toEqual([]);
  });
});

