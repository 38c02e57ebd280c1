import { randomBytes } from "node:crypto";
import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gatewayConfigFromSpec } from "../../../src/gateway/config";
import type { GatewayEvent } from "../../../src/gateway/events";
import { startGateway, type RunningGateway, type StartGatewayOptions } from "../../../src/gateway/gateway";
import { compileFirewall } from "../../../src/plan/plan";
import type { FirewallSpecProps } from "../../../src/model/types";
import { validateFirewallSpec } from "../../../src/model/validate";
import { freePort } from "./net";
import { TestModelUpstream } from "./model-upstream";
import { TestRedis } from "./redis";
import { selfSignedCertificate, TestUpstream, type TestCertificate } from "./upstream";

/** Where test agents of each role connect from and to. */
export interface RoleEndpoint {
  /** Listener with the role: local address and port. */
  readonly host: string;
  readonly port: number;
  /** Source address inside the role's source network, for the shared listener. */
  readonly from: string;
}

/** Local addresses of the listeners per role, and source addresses in each role's source network. */
export const ROLE_ADDRESSES: Record<string, { listener: string; source: string; network: string }> = {
  customer_support: { listener: "127.0.0.2", source: "127.0.0.17", network: "127.0.0.16/28" },
  research_agent: { listener: "127.0.0.3", source: "127.0.0.33", network: "127.0.0.32/28" },
};

/** Random key values, one per keyed tool, written to a fresh key directory. */
export function writeKeys(spec: FirewallSpecProps): { dir: string; keys: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "h3-gateway-keys-"));
  const keys: Record<string, string> = {};
  for (const [tool, props] of Object.entries(spec.tools)) {
    if (props.key === undefined) continue;
    keys[tool] = `rk_${tool}_${randomBytes(16).toString("hex")}`;
    writeFileSync(join(dir, tool), `${keys[tool]}\n`);
  }
  return { dir, keys };
}

/** Replaces a key file the way Vault Agent does: write a temporary file, rename it over the old one. */
export function rotateKey(dir: string, tool: string, value: string): void {
  const temporary = join(dir, `.${tool}.tmp`);
  writeFileSync(temporary, `${value}\n`);
  renameSync(temporary, join(dir, tool));
}

/** Gateway options of the tests: one port for both role listeners (told apart by local address), one shared by source network. */
export async function withTestListeners(spec: FirewallSpecProps): Promise<{ spec: FirewallSpecProps; rolePort: number; sharedPort: number }> {
  const rolePort = await freePort();
  let sharedPort = await freePort();
  while (sharedPort === rolePort) sharedPort = await freePort();
  const roles = Object.keys(ROLE_ADDRESSES);
  return {
    rolePort,
    sharedPort,
    spec: {
      ...spec,
      gateway: {
        listeners: [
          ...roles.map((role) => ({ port: rolePort, address: ROLE_ADDRESSES[role].listener, role })),
          { port: sharedPort, address: "127.0.0.1" },
        ],
        sourceNetworks: roles.map((role) => ({ cidr: ROLE_ADDRESSES[role].network, role })),
        limiterTimeoutMs: 200,
        ...spec.gateway,
      },
    },
  };
}

/** An in-process gateway on real sockets, with every event captured. */
export interface TestGateway {
  readonly gateway: RunningGateway;
  readonly events: GatewayEvent[];
  /** Every event line the gateway wrote (its events and alert lines), as its stdout would hold them. */
  readonly lines: string[];
  readonly keyDir: string;
  readonly keys: Record<string, string>;
  readonly rolePort: number;
  readonly sharedPort: number;
}

export async function startTestGateway(
  base: FirewallSpecProps,
  redisUrl: string,
  /** The upstream every tool's calls go to (by `upstreamAddresses`). */
  upstream: { readonly port: number },
  certificate: TestCertificate,
  limits: { maxBodyBytes?: number; maxHeaderBytes?: number; headersTimeoutMs?: number; requestTimeoutMs?: number } = {},
  /** Upstream ports by tool, instead of `upstream`'s. */
  upstreamPorts: ReadonlyMap<string, number> = new Map(),
  monitoring: StartGatewayOptions["monitoring"] = { env: {} },
  /** Options over the test defaults (e.g. no connect-to overrides and an upstream proxy). */
  overrides: Partial<StartGatewayOptions> = {},
): Promise<TestGateway> {
  const { spec, rolePort, sharedPort } = await withTestListeners(base);
  const { dir, keys } = writeKeys(spec);
  const config = gatewayConfigFromSpec(validateFirewallSpec(spec));
  const lines: string[] = [];
  const gateway = await startGateway({
    config,
    plan: compileFirewall(spec),
    writeLine: (line) => lines.push(line),
    monitoring,
    keyDir: dir,
    redisUrl,
    listenHost: "127.0.0.1",
    adminPort: 0,
    adminHost: "127.0.0.1",
    maxBodyBytes: limits.maxBodyBytes ?? 64 * 1024,
    maxHeaderBytes: limits.maxHeaderBytes ?? 16 * 1024,
    headersTimeoutMs: limits.headersTimeoutMs ?? 1_000,
    requestTimeoutMs: limits.requestTimeoutMs ?? 2_000,
    maxConnectionsPerListener: 1_024,
    upstreamTimeoutMs: 5_000,
    maxResponseBytes: 1024 * 1024,
    upstreamConnectionsPerRole: 32,
    maxCallsInFlightPerRole: 128,
    upstreamAddresses: new Map([...config.tools.keys()].map((tool) => [tool, { host: "127.0.0.1", port: upstreamPorts.get(tool) ?? upstream.port }])),
    upstreamCa: certificate.cert,
    ...overrides,
  });
  const events: GatewayEvent[] = [];
  gateway.events.onEvent((e) => events.push(e));
  return { gateway, events, lines, keyDir: dir, keys, rolePort, sharedPort };
}

/** A gateway for a firewall with what it needs: its own Redis, and an HTTPS upstream for every tool's host. */
export interface GatewayEnvironment {
  readonly redis: TestRedis;
  readonly certificate: TestCertificate;
  readonly upstream: TestUpstream;
  readonly gw: TestGateway;
  /** The fake model API of the `modelTools`, when some were named. */
  readonly model?: TestModelUpstream;
  /** Where the tools' calls go (for replicas): the model API's port for the `modelTools`. */
  readonly upstreamPorts: ReadonlyMap<string, number>;
}

/**
 * Starts Redis, the upstream (its certificate names every upstream host of `spec`), for
 * `modelTools` a fake model API in its place, and the gateway.
 */
export async function startGatewayEnvironment(spec: FirewallSpecProps, modelTools: ReadonlyArray<string> = []): Promise<GatewayEnvironment> {
  const redis = await TestRedis.start();
  const certificate = selfSignedCertificate([...new Set(Object.values(spec.tools).flatMap((t) => (t.upstream ? [new URL(t.upstream).hostname] : [])))]);
  const upstream = await TestUpstream.start(certificate);
  const model = modelTools.length === 0 ? undefined : await TestModelUpstream.start(certificate);
  const upstreamPorts = new Map(modelTools.map((tool) => [tool, model?.port ?? 0]));
  const gw = await startTestGateway(spec, redis.url, upstream, certificate, {}, upstreamPorts);
  return { redis, certificate, upstream, gw, model, upstreamPorts };
}

/** Stops what `startGatewayEnvironment` started, whatever part of it got started. */
export async function stopGatewayEnvironment(env: Partial<GatewayEnvironment>): Promise<void> {
  await env.gw?.gateway.stop();
  await env.model?.stop();
  await env.upstream?.stop();
  await env.redis?.kill();
}
