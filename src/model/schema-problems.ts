import type { z } from "zod";
import { formatPath, type SpecProblem } from "./errors";
import { knownKeysAt, zodSchemas } from "./schema";
import { closest } from "./suggest";

/** The zod schema's problems with a firewall description, each at its path. */
export function firewallSpecProblems(input: unknown): SpecProblem[] {
  const parsed = zodSchemas().firewallSpecSchema.safeParse(input);
  return parsed.success ? [] : schemaProblems(parsed.error.issues);
}

/**
 * Problems for the issues `root` found in a value, each under `prefix` plus the issue's path;
 * unknown options get a "did you mean" from the options `root` knows at that place.
 */
export function schemaProblems(
  issues: ReadonlyArray<z.core.$ZodIssue>,
  root: z.ZodType = zodSchemas().firewallSpecSchema,
  prefix: ReadonlyArray<PropertyKey> = [],
): SpecProblem[] {
  return issues.flatMap((issue): SpecProblem[] => {
    if (issue.code !== "unrecognized_keys") return [{ path: formatPath([...prefix, ...issue.path]), message: issue.message }];
    const known = knownKeysAt(issue.path, root);
    return issue.keys.map((key) => {
      const guess = closest(key, known);
      return {
        path: formatPath([...prefix, ...issue.path, key]),
        message: guess ? `unknown option "${key}"; did you mean "${guess}"?` : `unknown option "${key}"; known options: ${known.join(", ")}`,
      };
    });
  });
}
