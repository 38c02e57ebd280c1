import { isIP } from "node:net";
import { formatPath, GatewayServiceError, type SpecProblem } from "./errors";
import { GATEWAY_SERVICE_DEFAULTS, type GatewayServiceOptions } from "./gateway-service-types";
import { USER_NAME } from "./validate-host-firewall";

/** Gateway service options with defaults filled in. */
export type ResolvedGatewayService = { readonly [K in keyof typeof GATEWAY_SERVICE_DEFAULTS]: string } & { readonly after?: string };

// Absolute, and only characters systemd takes literally inside a command line (no %, $, quotes, \\ or white space).
const UNIT_PATH = /^\/[A-Za-z0-9._+@\/-]*$/;
const MEMORY = /^[1-9][0-9]*[KMGT]?$/;
const UNIT_NAME = /^[A-Za-z0-9:_.\\@-]+\.(service|target|mount|socket)$/;
const PATHS = ["nodePath", "gatewayPath", "configPath", "keyDirectory", "environmentFile"] as const;

/** Validates the gateway service options and fills in defaults; throws GatewayServiceError listing every problem. */
export function resolveGatewayServiceOptions(options: GatewayServiceOptions): ResolvedGatewayService {
  const problems: SpecProblem[] = [];
  const add = (path: ReadonlyArray<PropertyKey>, message: string) => problems.push({ path: formatPath(path), message });
  const resolved = { ...GATEWAY_SERVICE_DEFAULTS, ...options };
  if (typeof resolved.user !== "string" || !USER_NAME.test(resolved.user) || resolved.user === "root" || /^[0-9]+$/.test(resolved.user)) {
    add(["user"], `${JSON.stringify(resolved.user)} is not usable: name a dedicated system user (letters, digits, "_", "-", "."; not root), such as "${GATEWAY_SERVICE_DEFAULTS.user}"`);
  }
  for (const field of PATHS) {
    const value = resolved[field];
    if (typeof value !== "string" || !UNIT_PATH.test(value)) {
      add([field], `${JSON.stringify(value)} is not usable: the unit passes it on the command line, so write an absolute path of letters, digits and . _ + @ - / only, such as "${GATEWAY_SERVICE_DEFAULTS[field]}"`);
    }
  }
  if (typeof resolved.listenHost !== "string" || isIP(resolved.listenHost) === 0) {
    add(["listenHost"], `${JSON.stringify(resolved.listenHost)} is not an IP address; write the address to listen on, such as 127.0.0.1`);
  }
  if (typeof resolved.memoryMax !== "string" || !MEMORY.test(resolved.memoryMax)) {
    add(["memoryMax"], `${JSON.stringify(resolved.memoryMax)} is not a size; write bytes with an optional K, M, G or T suffix, such as "512M"`);
  }
  if (resolved.after !== undefined && (typeof resolved.after !== "string" || !UNIT_NAME.test(resolved.after))) {
    add(["after"], `${JSON.stringify(resolved.after)} is not a unit name; write one such as "rapidclaw-egress.service"`);
  }
  if (problems.length > 0) throw new GatewayServiceError(problems);
  return resolved;
}
