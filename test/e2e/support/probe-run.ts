import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { GATEWAY_BUNDLE_PATH } from "../../../src/constructs/gateway-bundle";
import type { FirewallSpecProps } from "../../../src/model/types";
import type { ProbeReport } from "../../../src/probe/verdicts";
import type { NetworkNamespace } from "./netns";

const REPO = join(__dirname, "..", "..", "..");

/** What a probe run gave: its exit code, its JSON report and what it wrote on stderr. */
export interface ProbeRun {
  readonly status: number;
  readonly report: ProbeReport;
  readonly stderr: string;
}

/** The verdict of each channel by id, to compare whole. */
export const verdictsOf = (report: ProbeReport): Record<string, string> => Object.fromEntries(report.channels.map((c) => [c.id, c.verdict === "skip" ? "skip" : c.observed!]));

/**
 * What a confined role's probe must give where no gateway, Redis or Vault runs: the allowed host
 * open, every other channel closed (`otherHosts`: whether the other role lists hosts to try).
 */
export function confinedVerdicts(other: string, otherHosts: boolean, host: string): Record<string, string> {
  return {
    "allowed-host": "open",
    "unlisted-host": "closed",
    [`other-role-host/${other}`]: otherHosts ? "closed" : "skip",
    ...Object.fromEntries(["proxy-ipv4-literal", "proxy-ipv6-literal", "direct-ipv4", "direct-ipv6", "metadata-direct", "metadata-direct-ipv6", "metadata-via-proxy", "private-range", "plain-http", "dns-tunnel", "sni-mismatch"].map((id) => [id, "closed"])),
    [`other-role-proxy/${other}`]: "closed",
    [`other-role-gateway/${other}`]: "skip",
    "gateway-proxy-listener": "skip",
    redis: "skip",
    vault: "skip",
    [`host/${host}`]: "closed",
  };
}

/**
 * Runs a `probe_<role>` output's `docker run` command as a user would: with sh, from a project
 * directory whose node_modules holds the package's bundle (the one built from these sources),
 * RAPIDCLAW_FIREWALL_FILE naming the firewall file, and DOCKER_HOST the engine's socket.
 */
export function runDockerProbeCommand(command: string, options: { readonly dockerSocket: string; readonly description: FirewallSpecProps; readonly extraArgs: ReadonlyArray<string> }): ProbeRun {
  const project = mkdtempSync(join(tmpdir(), "rapidclaw-probe-project-"));
  try {
    const bundle = join(project, "node_modules", "@rapidclaw", "agent-firewall", GATEWAY_BUNDLE_PATH);
    mkdirSync(dirname(bundle), { recursive: true });
    copyFileSync(join(REPO, GATEWAY_BUNDLE_PATH), bundle);
    writeFileSync(join(project, "firewall.json"), JSON.stringify(options.description));
    const result = spawnSync("sh", ["-c", `${command} ${options.extraArgs.join(" ")}`], {
      cwd: project,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, PWD: project, DOCKER_HOST: `unix://${options.dockerSocket}`, RAPIDCLAW_FIREWALL_FILE: "firewall.json" },
    });
    return parsed(result.status ?? -1, result.stdout, result.stderr);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}

/** A probe run's JSON report, or an error with what it printed. */
export function parsed(status: number, stdout: string, stderr: string): ProbeRun {
  try {
    return { status, report: JSON.parse(stdout) as ProbeReport, stderr };
  } catch {
    throw new Error(`the probe printed no JSON report (exit ${status}):\n${stderr}${stdout}`);
  }
}

/**
 * Runs the package's bundle (`node rapidclaw-gateway.cjs probe …`) inside a namespace as an agent
 * user, as the VM instructions say: the bundle and the firewall file copied where that user reads them.
 */
export function runBundledProbeAs(ns: NetworkNamespace, user: { readonly uid: number; readonly gid: number }, options: { readonly description: FirewallSpecProps; readonly env: NodeJS.ProcessEnv; readonly args: ReadonlyArray<string> }): ProbeRun {
  const dir = mkdtempSync(join(tmpdir(), "rapidclaw-probe-vm-"));
  try {
    chmodSync(dir, 0o755);
    const bundle = join(dir, "rapidclaw-gateway.cjs");
    copyFileSync(join(REPO, GATEWAY_BUNDLE_PATH), bundle);
    const config = join(dir, "firewall.json");
    writeFileSync(config, JSON.stringify(options.description));
    const identity = ["--reuid", String(user.uid), "--regid", String(user.gid), "--clear-groups"];
    const result = ns.run("setpriv", [...identity, process.execPath, bundle, "probe", "--config", config, ...options.args], { env: options.env, allowFailure: true });
    return parsed(result.status, result.stdout, result.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
