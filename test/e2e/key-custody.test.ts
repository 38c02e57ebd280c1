/**
 * Key custody end to end: the stack's Vault resources on a real OpenBao dev server, the real
 * `bao agent` with the Vault Agent config the stack mounts into its container, and the real
 * gateway bundle with a real redis-server and an HTTPS upstream on loopback.
 *
 * The agent runs in the server's network namespace from an address inside the gateway's bound
 * CIDR, in a mount namespace where the config, the RoleID and the SecretID sit at the paths the
 * stack gives them (/etc/rapidclaw, /run/rapidclaw) and the key directory is the gateway's. What
 * the test changes in the mounted config: the Vault address (the server's test address) and the
 * render interval (seconds, not the minute it ships with, so the rotation is seen quickly).
 * The SecretID is made with the root token, as an operator delivers it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Testing } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RapidClawStack } from "../../src";
import { AgentPlatform, KeyDelivery } from "../../src/model/types";
import { compileFirewall } from "../../src/plan/plan";
import { CliProcess } from "../gateway/support/cli";
import { ROLE_ADDRESSES, withTestListeners } from "../gateway/support/harness";
import { call, untilReady } from "../gateway/support/net";
import { missingRedis, TestRedis } from "../gateway/support/redis";
import { selfSignedCertificate, TestUpstream } from "../gateway/support/upstream";
import { fronted } from "../support/gateway-spec";
import { agentProgram, missingAgentPrograms } from "./support/agent-programs";
import { NetworkNamespace } from "./support/netns";
import { addressInside, OpenBaoServer } from "./support/openbao";
import { missingPrerequisites, skipLoudlyOrFailInCi } from "./support/prerequisites";
import { replayVault, type VaultReplay } from "./support/vault-replay";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const SKIP = skipLoudlyOrFailInCi(
  "key custody with bao agent and the gateway",
  [missingPrerequisites(["ip", "unshare", "curl", "mount"], { namespaces: true }), missingAgentPrograms(["bao"]), missingRedis()].filter(Boolean).join("; ") || undefined,
);

const BUNDLE = join(__dirname, "..", "..", "dist", "gateway", "rapidclaw-gateway.cjs");
const SERVER_ADDRESS = "10.255.0.1";
/** How often the agent re-reads the keys in this test. */
const RENDER_INTERVAL_SEC = 2;
/** Concurrent callers during the rotation. */
const CALLERS = 4;

const SPEC = fronted(AgentPlatform.DOCKER);
const PLAN = compileFirewall(SPEC);
const CUSTODY_TOOLS = PLAN.tools.filter((t) => t.key?.delivery === KeyDelivery.GATEWAY).map((t) => t.name).sort();

/** The synthesized stack. */
function synthesized(): Json {
  return JSON.parse(Testing.synth(new RapidClawStack(new App({ outdir: "/tmp" }), "firewall", SPEC), true));
}

/** The Vault Agent container's uploaded config, as Terraform writes it (`$${` is its escape for `${`). */
function mountedAgentConfig(doc: Json): string {
  const gateway = PLAN.gateway;
  const container = Object.values<Json>(doc.resource.docker_container).find((c) => c.name === gateway?.docker?.vaultAgentName);
  const upload = (container?.upload as Json[] | undefined)?.find((u) => u.file === gateway?.paths.vaultAgentConfig);
  if (upload === undefined) throw new Error("the stack mounts no Vault Agent config");
  return (upload.content as string).replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
}

/** Replaces the one line matching `line`, or fails: the test changes exactly what it says. */
function rewriteLine(text: string, line: RegExp, replacement: string): string {
  const matches = text.split("\n").filter((l) => line.test(l));
  if (matches.length !== 1) throw new Error(`expected one line matching ${line}, found ${matches.length}`);
  return text.split("\n").map((l) => (line.test(l) ? replacement : l)).join("\n");
}

describe.skipIf(SKIP)("tool keys from Vault to the upstream through bao agent and the gateway", () => {
  let ns: NetworkNamespace;
  let server: OpenBaoServer;
  let replay: VaultReplay;
  let agent: ChildProcess | undefined;
  let agentLog = "";
  let redis: TestRedis;
  let upstream: TestUpstream;
  let gateway: CliProcess;
  let rolePort = 0;
  const work = mkdtempSync(join(tmpdir(), "rccustody-"));
  const keyDir = join(work, "keys");

  beforeAll(async () => {
    const doc = synthesized();
    ns = NetworkNamespace.create("rccustody");
    ns.addAddress(SERVER_ADDRESS);
    server = await OpenBaoServer.start(ns, SERVER_ADDRESS);
    replay = replayVault(server, doc);

    // The gateway's login: its address inside the bound CIDR, its RoleID and a SecretID where the stack mounts them.
    const login = Object.values<Json>(doc.resource.vault_approle_auth_backend_role).find((r) => r.role_name === PLAN.gateway?.name) as Json;
    const [cidr] = login.token_bound_cidrs as string[];
    const source = addressInside(cidr);
    ns.addAddress(source);
    const etc = join(work, "etc-upper", "rapidclaw");
    mkdirSync(etc, { recursive: true });
    mkdirSync(join(work, "etc-work"));
    mkdirSync(keyDir);
    mkdirSync(join(work, "approle"));
    const config = rewriteLine(
      rewriteLine(mountedAgentConfig(doc), /^ {2}address = /, `  address = "http://${source}:8200"`),
      /^ {2}static_secret_render_interval = /,
      `  static_secret_render_interval = "${RENDER_INTERVAL_SEC}s"`,
    );
    writeFileSync(join(etc, "vault-agent.hcl"), config);
    writeFileSync(join(etc, "role-id"), server.write("GET", `auth/${PLAN.vault.authPath}/role/${login.role_name}/role-id`).data.role_id);
    writeFileSync(join(work, "approle", "secret-id"), server.write("POST", `auth/${PLAN.vault.authPath}/role/${login.role_name}/secret-id`).data.secret_id);

    // ip netns exec gives the agent a mount namespace of its own: these mounts stay there.
    const script = [
      'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$0/etc-upper,workdir=$0/etc-work" /etc',
      "mount -t tmpfs tmpfs /run",
      "mkdir -p /run/rapidclaw/keys /run/rapidclaw/approle",
      'mount --bind "$0/keys" /run/rapidclaw/keys',
      'mount --bind "$0/approle" /run/rapidclaw/approle',
      'exec "$1" agent -config=/etc/rapidclaw/vault-agent.hcl',
    ].join(" && ");
    agent = spawn("ip", ["netns", "exec", ns.name, "sh", "-c", script, work, agentProgram("bao") as string], { stdio: ["ignore", "pipe", "pipe"] });
    agent.stdout?.on("data", (d) => (agentLog += d));
    agent.stderr?.on("data", (d) => (agentLog += d));

    redis = await TestRedis.start();
    const certificate = selfSignedCertificate(["api.anthropic.com"]);
    upstream = await TestUpstream.start(certificate);
    const listening = await withTestListeners(SPEC);
    rolePort = listening.rolePort;
    writeFileSync(join(work, "firewall.json"), JSON.stringify(listening.spec));
    // Start the gateway once the keys are there (it loads them at start and follows changes).
    await until(() => CUSTODY_TOOLS.every((tool) => readdirSync(keyDir).includes(tool)), 30_000, () => `bao agent rendered no keys:\n${agentLog}`);
    gateway = new CliProcess([
      "gateway", "--config", join(work, "firewall.json"), "--key-dir", keyDir, "--redis", redis.url, "--listen-host", "127.0.0.1",
      "--admin-port", "0", "--admin-host", "127.0.0.1", "--upstream-ca", certificate.certFile,
      ...CUSTODY_TOOLS.flatMap((tool) => ["--upstream-address", `${tool}=127.0.0.1:${upstream.port}`]),
    ], { bundle: BUNDLE, env: { NODE_PATH: "" } });
    await gateway.waitFor("listening");
    await untilReady(Number(/admin on [^ ]+:(\d+)/.exec(gateway.stderr)?.[1]));
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
    await redis?.kill();
    agent?.kill("SIGTERM");
    await server?.stop();
    ns?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  const secretOf = (tool: string) => replay.secrets.get(`${PLAN.vault.mountPath}/${PLAN.tools.find((t) => t.name === tool)?.key?.secretName}`) as Json;
  const callModel = (query = "") => call({ host: ROLE_ADDRESSES.research_agent.listener, port: rolePort, path: `/tools/anthropic/v1/messages${query}`, method: "POST", body: "{}" });

  it("renders exactly the custody keys into the key directory, mode 0400, and the gateway injects them", async () => {
    expect(CUSTODY_TOOLS).toEqual(["anthropic"]);
    expect(readdirSync(keyDir).sort()).toEqual(CUSTODY_TOOLS);
    for (const tool of CUSTODY_TOOLS) {
      expect(statSync(join(keyDir, tool)).mode & 0o777).toBe(0o400);
      expect(readFileSync(join(keyDir, tool), "utf8")).toBe(secretOf(tool).api_key);
    }
    const answer = await callModel();
    expect(answer.status, answer.body).toBe(200);
    expect(upstream.received.at(-1)?.headers["x-api-key"]).toBe(secretOf("anthropic").api_key);
  });

  it("rotates under load: the new version reaches the upstream, no call fails, no call started after the new key was seen carries the old", async () => {
    const old = secretOf("anthropic").api_key as string;
    const rotated = randomBytes(24).toString("hex");
    const first = upstream.received.length;
    const newKeySeen = () => upstream.received.slice(first).some((r) => r.headers["x-api-key"] === rotated);
    const statuses: number[] = [];
    /** Calls by number, and whether the upstream had already received the new key when each started. */
    const startedAfterSeen = new Map<string, boolean>();
    let running = true;
    const callers = Array.from({ length: CALLERS }, async () => {
      while (running) {
        const seq = String(startedAfterSeen.size);
        startedAfterSeen.set(seq, newKeySeen());
        statuses.push(await callModel(`?seq=${seq}`).then((a) => a.status, () => 0));
      }
    });
    await until(() => statuses.length >= 20, 20_000, () => "no calls went through");
    // As the stack's rotation writes it: a new version of the whole secret with a new api_key.
    server.write("POST", `${PLAN.vault.mountPath}/data/tools/anthropic`, { data: { ...secretOf("anthropic"), api_key: rotated } });
    await until(newKeySeen, 10 * RENDER_INTERVAL_SEC * 1000, () => `the rotated key never reached the upstream:\n${agentLog}`);
    // Keep calling past two more renders and the gateway's poll.
    const seen = statuses.length;
    await until(() => statuses.length >= seen + 50, 20_000, () => "calls stopped after the rotation");
    await new Promise((r) => setTimeout(r, 2 * RENDER_INTERVAL_SEC * 1000));
    running = false;
    await Promise.all(callers);

    const received = upstream.received.slice(first).map((r) => ({ key: r.headers["x-api-key"], seq: new URL(r.url, "https://upstream").searchParams.get("seq") as string }));
    expect(received).toHaveLength(statuses.length);
    expect(new Set(received.map((r) => r.key))).toEqual(new Set([old, rotated]));
    // Calls in flight at the change may arrive in any order; a call started once the new key was seen must carry it.
    expect(received.filter((r) => startedAfterSeen.get(r.seq) && r.key !== rotated)).toEqual([]);
    expect(received.filter((r) => startedAfterSeen.get(r.seq)).length).toBeGreaterThan(50);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(readFileSync(join(keyDir, "anthropic"), "utf8")).toBe(rotated);
    expect(statSync(join(keyDir, "anthropic")).mode & 0o777).toBe(0o400);
    const firstNew = received.findIndex((r) => r.key === rotated);
    const reordered = received.slice(firstNew).filter((r) => r.key !== rotated).length;
    console.info(`rotation under load: ${statuses.length} calls by ${CALLERS} callers; the new key first arrived as call ${firstNew + 1}; ${reordered} calls in flight at the change arrived after it with the old key`);
  });
});

async function until(done: () => boolean, ms: number, why: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 50));
  }
}
