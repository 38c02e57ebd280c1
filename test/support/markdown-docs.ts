import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** A fenced block of a Markdown document, with the `docs-test` directive written just above it. */
export interface FencedBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
  /** The text of `<!-- docs-test: … -->` on the lines just above the fence (blank lines allowed), if any. */
  readonly directive?: string;
}

/** The user documentation: README, CONTRIBUTING, CHANGELOG and every page under docs/. */
export function documentationFiles(repo: string): string[] {
  const pages = readdirSync(join(repo, "docs"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".md")).map((f) => join("docs", f));
  return ["README.md", "CONTRIBUTING.md", "CHANGELOG.md", ...pages.sort()];
}

/** Every fenced block of a document, in order. */
export function fencedBlocks(repo: string, file: string): FencedBlock[] {
  const lines = readFileSync(join(repo, file), "utf8").split("\n");
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(\S*)\s*$/.exec(lines[i]);
    if (open === null) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith(open[1]) && l.trim() === open[1]);
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code fence`);
    let above = i - 1;
    while (above >= 0 && lines[above].trim() === "") above--;
    const directive = above >= 0 ? /^<!-- docs-test: (.*) -->$/.exec(lines[above].trim())?.[1] : undefined;
    blocks.push({ file, line: i + 1, lang: open[2], code: lines.slice(i + 1, end).join("\n"), directive });
    i = end;
  }
  return blocks;
}

/** GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces as `-`. */
export function headingAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, "").replace(/ /g, "-");
}

/** The anchors a document offers: its headings (outside code, with GitHub's `-1` suffixes for repeats) and `<a name>` tags. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of text.split("\n")) {
    const marker = /^(`{3,})/.exec(line)?.[1];
    if (marker !== undefined && (fence === undefined || line.trim() === fence)) { fence = fence === undefined ? marker : undefined; continue; }
    if (fence !== undefined) continue;
    const heading = /^#{1,6} (.*)$/.exec(line);
    if (heading === null) continue;
    const base = headingAnchor(heading[1]);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  for (const m of text.matchAll(/<a name="([^"]+)"/g)) anchors.add(m[1]);
  return anchors;
}

/** Relative links of a document, outside code: `[text](target)` with no scheme. */
export function relativeLinks(repo: string, file: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  let fence: string | undefined;
  readFileSync(join(repo, file), "utf8").split("\n").forEach((line, i) => {
    const marker = /^(`{3,})/.exec(line)?.[1];
    if (marker !== undefined && (fence === undefined || line.trim() === fence)) { fence = fence === undefined ? marker : undefined; return; }
    if (fence !== undefined) return;
    for (const m of line.replace(/`[^`]*`/g, "").matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!/^[a-z]+:/i.test(m[1])) links.push({ target: m[1], line: i + 1 });
    }
  });
  return links;
}

/** Where a block is, for messages. */
export const where = (repo: string, block: FencedBlock) => `${relative(repo, join(repo, block.file))}:${block.line}`;
