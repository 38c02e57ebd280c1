/**
 * The path below a tool as the upstream's server will read it, for matching EXECUTE operations.
 * Servers differ: some decode percent-escapes, ignore case, Unicode compatibility forms, a
 * trailing slash, `;params` or repeated slashes, others do not. The effective path applies every
 * one of those readings at once, so a spelling any of them routes to an operation matches it.
 * A spelling whose readings lead to different places (an encoded delimiter, a dot segment,
 * `//`, a backslash, a bad escape) has no effective path: it is refused, never forwarded.
 */
export type EffectivePath =
  | { readonly segments: ReadonlyArray<string> }
  | { readonly problem: string };

/** Escapes that some servers decode before splitting the path and others after: `%` itself (double encoding), `/`, `\`, `.`, `;`, `?`, `#`, controls. */
const DELIMITER_ESCAPE = /%(2[5eEfF]|5[cC]|3[bBfF]|23|[01][0-9a-fA-F]|7[fF])/;
const BAD_ESCAPE = /%(?![0-9a-fA-F]{2})/;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The effective path of `path` (the raw path below the tool, starting with `/`, without the query). */
export function effectivePath(path: string): EffectivePath {
  if (BAD_ESCAPE.test(path)) return { problem: "a \"%\" that starts no escape in the path" };
  if (DELIMITER_ESCAPE.test(path)) return { problem: "encoded %, dot, slash, backslash, \";\", \"?\", \"#\" or control character in the path" };
  if (/[\\#]/.test(path)) return { problem: "backslash or \"#\" in the path" };
  const written = path.split("/").slice(1);
  if (written.some((segment, i) => segment === "." || segment === ".." || (segment === "" && i < written.length - 1))) {
    return { problem: "dot or empty segment in the path" };
  }
  const decoded = decodePath(path);
  if (decoded === undefined) return { problem: "percent-escapes in the path that are not UTF-8" };
  const segments = foldText(decoded).split(/[/\\]/).map(withoutParameters).filter((segment) => segment !== "");
  if (segments.some((segment) => segment === "." || segment === "..")) return { problem: "a segment that decodes to \".\" or \"..\"" };
  return { segments };
}

/**
 * Text as a case-insensitive, Unicode-normalising server compares it: NFKC (full-width and other
 * compatibility forms to their plain letters: `ｒ`, `ſ`), then upper and lower case, so that
 * letters only one of the two mappings joins fold together (dotless `ı` and `i`, `ß` and `ss`).
 */
export function foldText(text: string): string {
  return text.normalize("NFKC").toUpperCase().toLowerCase();
}

/** A segment without its `;params` (Tomcat, Jetty, Spring) and surrounding white space (IIS). */
function withoutParameters(segment: string): string {
  const at = segment.indexOf(";");
  return (at < 0 ? segment : segment.slice(0, at)).trim();
}

/** Percent-decodes the path as UTF-8; bytes the HTTP parser handed over as Latin-1 characters count as raw bytes. */
function decodePath(path: string): string | undefined {
  const bytes: number[] = [];
  for (const [token] of path.matchAll(/%[0-9a-fA-F]{2}|[^]/gu)) {
    if (token.length === 3 && token[0] === "%") bytes.push(parseInt(token.slice(1), 16));
    else if (token.charCodeAt(0) <= 0xff) bytes.push(token.charCodeAt(0));
    else bytes.push(...Buffer.from(token, "utf8"));
  }
  try {
    return UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}
