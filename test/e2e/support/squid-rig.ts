import type { FirewallPlan } from "../../../src/plan/plan";
import { renderSquidConfForPlan } from "../../../src/render/squid-conf";
import { NetAgent } from "./net-agent-client";
import { NetworkNamespace } from "./netns";
import { prepareSquidFiles, removeSquidFiles, SquidProcess, type SquidFiles } from "./squid";

/** Squid running a plan's squid.conf in a network namespace of its own, with banner servers behind it and a prober in front. */
export interface SquidRig {
  readonly ns: NetworkNamespace;
  readonly upstreams: NetAgent;
  readonly prober: NetAgent;
  readonly squid: SquidProcess;
  readonly files: SquidFiles;
}

/** What a rig serves and where Squid listens. */
export interface SquidRigOptions {
  /** Prefix of the namespace's and the files' names (the helper's or suite's own). */
  readonly label: string;
  readonly plan: FirewallPlan;
  /** Where Squid listens and the prober connects from, with any other address the namespace needs. */
  readonly listenAddress: string;
  readonly clientAddresses?: ReadonlyArray<string>;
  /** Names Squid's hosts_file maps to addresses. */
  readonly hosts: ReadonlyArray<{ readonly name: string; readonly address: string }>;
  /** Addresses that get a banner server on each of `ports`. */
  readonly served: ReadonlyArray<string>;
  readonly ports: ReadonlyArray<number>;
  readonly banner: (address: string, port: number) => string;
  /**
   * Logs as the container writes them: the access log on stdout, the cache log on stderr, and the
   * lines again in `files.eventLog`, as in the log proxy-events follows.
   * @default false - access and cache log in files, no event log
   */
  readonly logsAsDeployed?: boolean;
  /** The container's command to start Squid with, given squid.conf's and the event log's paths. @default - `squid -N -f <conf>` */
  readonly startCommand?: (confPath: string, eventLog: string) => string[];
}

/** Starts the namespace, the banner servers, the prober and Squid (access log and cache log in files). */
export async function startSquidRig(options: SquidRigOptions): Promise<SquidRig> {
  const rig: { -readonly [K in keyof SquidRig]?: SquidRig[K] } = {};
  try {
    const ns = (rig.ns = NetworkNamespace.create(options.label));
    for (const address of new Set([options.listenAddress, ...(options.clientAddresses ?? []), ...options.served])) ns.addAddress(address);
    const upstreams = (rig.upstreams = await NetAgent.start(ns));
    for (const address of options.served) for (const port of options.ports) await upstreams.call({ op: "serveTcp", host: address, port, banner: options.banner(address, port) });
    rig.prober = await NetAgent.start(ns);
    const files = (rig.files = prepareSquidFiles(options.label, options.hosts));
    const logs = options.logsAsDeployed ? { eventLog: files.eventLog } : { accessLog: `stdio:${files.accessLog}`, cacheLog: files.cacheLog };
    const conf = renderSquidConfForPlan(options.plan, { listenAddress: options.listenAddress, hostsFile: files.hostsFile, ...logs });
    rig.squid = await SquidProcess.start(ns, files, conf, options.startCommand && ((confPath) => options.startCommand!(confPath, files.eventLog)));
    return rig as SquidRig;
  } catch (error) {
    await stopSquidRig(rig);
    throw error;
  }
}

/** Stops what a rig started, whatever of it did start. */
export async function stopSquidRig(rig: Partial<SquidRig> | undefined): Promise<void> {
  await rig?.squid?.stop();
  if (rig?.files) removeSquidFiles(rig.files);
  await rig?.prober?.stop();
  await rig?.upstreams?.stop();
  rig?.ns?.destroy();
}
