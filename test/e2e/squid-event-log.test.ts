/**
 * The proxy's event log is rotated, and nothing proxy-events follows is lost or read twice: real
 * Squid started by the container's own command (the throwaway certificate, the rotation loop,
 * `exec squid -N`) in a network namespace, with a small rotation size, and the follower
 * proxy-events runs reading the log while Squid renames it under load.
 */
import { existsSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firewallScenario } from "../../examples/firewall-scenario";
import { parseEventLine } from "../../src/monitoring/events";
import { FileTailer } from "../../src/monitoring/file-tailer";
import { AgentPlatform } from "../../src/model/types";
import { compileFirewall } from "../../src/plan/plan";
import { squidStartCommand } from "../../src/render/squid-start-command";
import { missingPrerequisites, skipLoudlyOrFailInCi } from "./support/prerequisites";
import { startSquidRig, stopSquidRig, type SquidRig } from "./support/squid-rig";

const SKIP = skipLoudlyOrFailInCi("Squid event log rotation e2e", missingPrerequisites(["ip", "squid", "setpriv", "unshare", "openssl", "stat"], { namespaces: true }));

const LISTEN_ADDRESS = "172.30.9.2";
/** A few lines' worth, so that a few hundred lines rotate the log many times. */
const MAX_BYTES = 8_192;
const CALLS = 240;

describe.skipIf(SKIP)("the proxy's event log under rotation", () => {
  const plan = compileFirewall(firewallScenario(AgentPlatform.KUBERNETES));
  const research = plan.roles.find((role) => role.name === "research_agent")!;
  let rig: SquidRig | undefined;
  let follower: FileTailer | undefined;
  const followed: string[] = [];

  beforeAll(async () => {
    rig = await startSquidRig({
      label: "rc-evlog",
      plan,
      listenAddress: LISTEN_ADDRESS,
      hosts: [],
      served: [],
      ports: [],
      banner: () => "",
      logsAsDeployed: true,
      startCommand: (confPath, eventLog) => squidStartCommand(confPath, { path: eventLog, maxBytes: MAX_BYTES, checkIntervalSec: 1 }),
    });
    // As proxy-events follows it: from the end, every line handed over before the next is read.
    follower = new FileTailer(rig.files.eventLog, (line) => void followed.push(line), { from: "end", intervalMs: 50 });
    follower.start();
  }, 60_000);

  afterAll(async () => {
    await follower?.stop();
    await stopSquidRig(rig);
  });

  it("renames the log past its size while Squid keeps serving, and the follower reads every line exactly once", async () => {
    const { squid, prober, files } = rig as SquidRig;
    // Each refused CONNECT (a host no role lists) is one line; spread over several rotation checks.
    for (let i = 0; i < CALLS; i++) {
      const answer = await prober.proxy({ proxyHost: LISTEN_ADDRESS, localAddress: LISTEN_ADDRESS, proxyPort: research.proxyPort, method: "CONNECT", target: `call-${i}.unlisted.example:443`, timeoutMs: 5_000 });
      expect(answer.status).not.toBe(200);
      if (i % 40 === 39) {
        // Paced in batches, so that the loop's checks (every second) find the log grown past its size several times.
        await squid.nextAccessLogLine(i);
        await new Promise((r) => setTimeout(r, 1_100));
      }
    }
    const deadline = Date.now() + 15_000;
    while (followed.length < CALLS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    // Each batch of calls outgrows the size, so the log was renamed several times while followed.
    expect(squid.log().match(/Rotate log file stdio:\S*events\.log/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
    expect(existsSync(`${files.eventLog}.0`)).toBe(true);
    // One old file kept; the current one never far past the size (one check interval of lines).
    expect(statSync(files.eventLog).size).toBeLessThan(MAX_BYTES * 4);
    const hosts = followed.map((line) => {
      const parsed = parseEventLine(line);
      return parsed.ok ? parsed.event.host : `unparsed: ${line}`;
    });
    expect(hosts).toEqual(Array.from({ length: CALLS }, (_, i) => `call-${i}.unlisted.example`));
    // The rotation loop left Squid's stdout log alone (not a regular file), and Squid still serves.
    expect(squid.accessLogLines()).toHaveLength(CALLS);
  }, 180_000);
});
