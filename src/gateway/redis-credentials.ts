import { readFileSync } from "node:fs";
import { FirewallSpecError } from "../model/errors";

/** What the gateway logs in to Redis with (Redis 6 ACL: `AUTH username password`). */
export interface RedisCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * Reads `{"username": "...", "password": "..."}` from `file` (as the gateway's Vault Agent renders
 * it), once, at start. A file, not an option or variable: other local users can read a process's
 * command line, and its environment reaches every child. Throws FirewallSpecError naming the
 * option when the file is missing, is not that JSON object, or has an empty field.
 */
export function readRedisCredentials(file: string, option = "--redis-credentials-file"): RedisCredentials {
  const fail = (message: string): never => {
    throw new FirewallSpecError([{ path: option, message }]);
  };
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    fail(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}); give the file Vault Agent renders from gateway.redis.credentialsSecret`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message would quote the text, which holds the password.
    fail(`${file} is not JSON; write {"username": "...", "password": "..."}`);
  }
  const fields = parsed as { username?: unknown; password?: unknown } | null;
  const username = fields?.username;
  const password = fields?.password;
  if (typeof username !== "string" || username === "" || typeof password !== "string" || password === "") {
    fail(`${file} must hold a JSON object with non-empty string fields username and password (a Redis without ACL users takes username "default")`);
  }
  return { username: username as string, password: password as string };
}
