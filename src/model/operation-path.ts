/** One segment of an EXECUTE operation's path: a literal, or a `{name}` standing for any one segment. */
export interface OperationSegment {
  /** The segment as written; undefined for a `{name}`. */
  readonly literal?: string;
  /** The name inside `{…}`; undefined for a literal. */
  readonly parameter?: string;
}

/** An EXECUTE operation's path, parsed. */
export interface OperationPath {
  readonly segments: ReadonlyArray<OperationSegment>;
  /** Written with a final `/*`: the path itself and every path below it. */
  readonly below: boolean;
}

/** Characters of a literal segment: RFC 3986 unreserved and sub-delimiters, `:` and `@`, without `;` and `*`. */
const LITERAL_SEGMENT = /^[A-Za-z0-9._~!$&'()+,=:@-]+$/;
const PARAMETER_SEGMENT = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/**
 * Parses an operation path: `/v3/mail/send` (exact), `/v1/admin/*` (that path and everything
 * below), `/repos/{owner}/{repo}/pulls/{number}/merge` (a `{name}` is any one segment). A trailing
 * slash is ignored, as the gateway ignores it in requests. Returns why the text is refused, with a fix.
 */
export function parseOperationPath(text: string): OperationPath | string {
  if (!text.startsWith("/")) return `"${text}" must start with "/" (the path below the tool, e.g. /v3/mail/send)`;
  const below = text.endsWith("/*");
  const body = below ? text.slice(0, -2) : text.replace(/\/$/, "");
  const written = body === "" ? [] : body.slice(1).split("/");
  const segments: OperationSegment[] = [];
  const names = new Set<string>();
  for (const segment of written) {
    const parameter = PARAMETER_SEGMENT.exec(segment)?.[1];
    if (parameter !== undefined) {
      if (names.has(parameter)) return `"${text}": {${parameter}} appears twice; give each template segment its own name`;
      names.add(parameter);
      segments.push({ parameter });
      continue;
    }
    const problem = literalProblem(text, segment);
    if (problem) return problem;
    segments.push({ literal: segment });
  }
  return { segments, below };
}

function literalProblem(text: string, segment: string): string | undefined {
  if (segment === "") return `"${text}" holds an empty segment ("//"); write single slashes`;
  if (segment === "." || segment === "..") return `"${text}" holds "." or ".." segments; write the path in normal form`;
  if (segment.includes("*")) return `"${text}": "*" is allowed only as the last segment ("/v1/admin/*")`;
  if (/[{}]/.test(segment)) return `"${text}": a template segment is {name} alone between slashes (letters, digits, _), such as /repos/{owner}/{repo}/pulls/{number}/merge`;
  if (segment.includes(";")) return `"${text}" holds ";", which servers read as the start of path parameters and drop; write the path without it`;
  if (!LITERAL_SEGMENT.test(segment)) {
    return `"${text}" holds "%", a query, "\\", white space, a control or non-ASCII character; write a plain path (operations are matched on the decoded path, so write "/v1/run", not "/v1/%72un")`;
  }
  return undefined;
}
