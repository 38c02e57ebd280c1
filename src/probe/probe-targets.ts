/** What `rapidclaw probe` knows of the deployment it runs in: the role's own endpoints, from the agents' environment or flags. Pure. */

/** A TCP endpoint. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** The deployment as seen from inside the role. */
export interface ProbeTargets {
  /** The role's own proxy (HTTPS_PROXY), through which the allowed host must pass. */
  readonly proxy: Endpoint;
  /** The role's own gateway listener (RAPIDCLAW_GATEWAY_URL); undefined without a gateway. */
  readonly gateway?: Endpoint;
  /** Addresses of the host the role runs on, when given (`--host-address`); else the channels work them out where they can. */
  readonly hostAddresses: ReadonlyArray<string>;
  /** Ports tried on each host address. */
  readonly hostPorts: ReadonlyArray<number>;
  /** Vault's URL, when known (VAULT_ADDR, `--vault-address` or `vault.address`). */
  readonly vaultAddress?: string;
  /** A random label for names that must not be cached anywhere (DNS query, mismatched TLS name). */
  readonly nonce: string;
}

/** Options the command line may give instead of the environment. */
export interface ProbeTargetOptions {
  readonly proxy?: string;
  readonly gateway?: string;
  readonly hostAddress?: ReadonlyArray<string>;
  readonly hostPorts?: ReadonlyArray<number>;
  readonly vaultAddress?: string;
}

/** Ports tried on the host unless `--host-port` is given: SSH, HTTP, HTTPS and the Docker API. */
export const DEFAULT_HOST_PORTS: ReadonlyArray<number> = [22, 80, 443, 2375];

/** Why the targets cannot be worked out (the message names the variable and the flag). */
export class ProbeTargetError extends Error {}

/** An `http://host:port` URL as an endpoint (IPv6 brackets removed, the scheme's port by default). */
export function endpointOf(url: string, what: string): Endpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ProbeTargetError(`${what} "${url}" is not a URL; give one such as http://10.0.0.2:3128`);
  }
  const port = parsed.port === "" ? (parsed.protocol === "https:" ? 443 : 80) : Number(parsed.port);
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), port };
}

/**
 * The targets from flags first, then the variables the firewall sets on its agents (HTTPS_PROXY,
 * RAPIDCLAW_GATEWAY_URL) and VAULT_ADDR, then `vault.address` of the description.
 */
export function probeTargets(env: NodeJS.ProcessEnv, options: ProbeTargetOptions, defaults: { readonly vaultAddress?: string; readonly nonce: string }): ProbeTargets {
  const proxyUrl = options.proxy ?? env.HTTPS_PROXY ?? env.https_proxy;
  if (proxyUrl === undefined || proxyUrl === "") throw new ProbeTargetError("no proxy: run the probe with the role's environment (HTTPS_PROXY) or give --proxy http://<address>:<port>");
  const gatewayUrl = options.gateway ?? env.RAPIDCLAW_GATEWAY_URL;
  return {
    proxy: endpointOf(proxyUrl, options.proxy === undefined ? "HTTPS_PROXY" : "--proxy"),
    gateway: gatewayUrl === undefined || gatewayUrl === "" ? undefined : endpointOf(gatewayUrl, options.gateway === undefined ? "RAPIDCLAW_GATEWAY_URL" : "--gateway"),
    hostAddresses: options.hostAddress ?? [],
    hostPorts: options.hostPorts !== undefined && options.hostPorts.length > 0 ? options.hostPorts : DEFAULT_HOST_PORTS,
    vaultAddress: options.vaultAddress ?? (env.VAULT_ADDR || undefined) ?? defaults.vaultAddress,
    nonce: defaults.nonce,
  };
}
