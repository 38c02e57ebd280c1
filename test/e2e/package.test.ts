import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "./support/prerequisites";

/**
 * The library as a user gets it: packed, installed from the tarball into fresh projects with the
 * providers from the npm registry, then type-checked and synthesized there. One project is on
 * cdktf 0.21 and constructs 10.4.2 (the oldest the peers admit), one on CDK Terrain through the
 * alias the README gives; two more install only one platform's provider (the platform providers
 * are optional peers) and print their installed size beside the full project's.
 */

const REPO = resolve(__dirname, "../..");
const FIXTURE = join(__dirname, "consumer");
const SETUP_TIMEOUT = 600_000;

function registryUnreachable(): string | undefined {
  const ping = spawnSync("npm", ["ping", "--fetch-retries=0", "--fetch-timeout=20000"], { encoding: "utf8", timeout: 30_000 });
  if (ping.status === 0) return undefined;
  const lines = (ping.stderr ?? "").split("\n");
  const why = lines.find((line) => line.includes("FetchError")) ?? lines.find((line) => line.startsWith("npm error")) ?? ping.error?.message ?? `exit status ${ping.status}`;
  return `the npm registry is unreachable (npm ping: ${why.replace(/^npm error\s*/, "")})`;
}

const SKIP = skipLoudly("package install e2e", registryUnreachable());

/** Runs a command, failing with its output when it exits non-zero. */
function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1" }, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} in ${cwd} exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** A consumer project: what it pins besides the library and the providers. */
interface Consumer {
  readonly label: string;
  /** The platform its firewall is for. */
  readonly platform: "docker" | "kubernetes";
  /** The platform providers it installs (the others are peers every project installs). */
  readonly platformProviders: ReadonlyArray<string>;
  readonly dependencies: Record<string, string>;
  readonly overrides?: Record<string, string>;
  /** What `cdktf` must resolve to, as package@version. */
  readonly cdktf: string;
  /** The constructs version the project pins, which must be the only one installed. */
  readonly constructs: string;
}

const DOCKER_PROVIDER = "@cdktf/provider-docker";
const KUBERNETES_PROVIDER = "@cdktf/provider-kubernetes";
const BOTH = [DOCKER_PROVIDER, KUBERNETES_PROVIDER];
const CDKTF_021 = { dependencies: { cdktf: "0.21.0", constructs: "10.4.2" }, cdktf: "cdktf@0.21.0", constructs: "10.4.2" };

const CONSUMERS: Consumer[] = [
  { label: "cdktf 0.21, constructs 10.4.2", platform: "docker", platformProviders: BOTH, ...CDKTF_021 },
  // The README's CDK Terrain recipe: the providers exist only as @cdktf/provider-*, on cdktf.
  { label: "CDK Terrain 0.24 as cdktf, constructs 10.7.2", platform: "docker", platformProviders: BOTH, dependencies: { cdktf: "npm:cdktn@0.24.0", constructs: "10.7.2" }, overrides: { cdktf: "$cdktf" }, cdktf: "cdktn@0.24.0", constructs: "10.7.2" },
  { label: "Docker only (no Kubernetes provider)", platform: "docker", platformProviders: [DOCKER_PROVIDER], ...CDKTF_021 },
  { label: "Kubernetes only (no Docker provider)", platform: "kubernetes", platformProviders: [KUBERNETES_PROVIDER], ...CDKTF_021 },
];

/** Bytes of the files under a directory, as `du --apparent-size` counts them. */
function installedBytes(dir: string): number {
  return Number(run("du", ["-sb", dir], dir).split("\t")[0]);
}

describe.skipIf(SKIP)("the packed library", () => {
  const work = mkdtempSync(join(tmpdir(), "rapidclaw-package-"));
  const library = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
  let tarball = "";

  beforeAll(() => {
    // `npm pack` builds first (prepack), so the tarball holds what main, types and exports name.
    run("npm", ["pack", "--pack-destination", work], REPO);
    tarball = join(work, readdirSync(work).find((f) => f.endsWith(".tgz")) ?? "");
  }, SETUP_TIMEOUT);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("holds the build, the jsii assembly, the gateway and hook bundles, the OpenClaw plugin, the schema and the license, and nothing of the tests", () => {
    const files = run("tar", ["-tzf", tarball], work).split("\n").filter(Boolean);
    const entry = (path: string) => `package/${path.replace(/^\.\//, "")}`;
    expect(files).toEqual(expect.arrayContaining([library.main, library.types, library.exports["."].default, library.exports["."].types, library.exports["./schema/firewall.schema.json"], library.bin.rapidclaw, ".jsii", "API.md", "LICENSE", "README.md", "package.json", "dist/gateway/rapidclaw-gateway.cjs", "dist/gateway/rapidclaw-hook.cjs", "dist/gateway/THIRD-PARTY-LICENSES.txt", "images/egress-proxy/Dockerfile", "images/gateway/Dockerfile",
      // Mounted into OpenClaw agents (`runtime: openclaw`), read from the package at synthesis.
      "openclaw-plugin/index.js", "openclaw-plugin/openclaw.plugin.json", "openclaw-plugin/package.json"].map(entry)));
    expect(files.filter((f) => !/^package\/(dist\/src\/|dist\/gateway\/|images\/gateway\/Dockerfile$|images\/egress-proxy\/Dockerfile$|schema\/|openclaw-plugin\/|node_modules\/|\.jsii$|API\.md$|LICENSE$|README\.md$|package\.json$)/.test(f))).toEqual([]);
    // jsii admits only jsii modules as dependencies, so the library's own travel inside the
    // tarball; the CLI's (commander, ioredis, prom-client) are in its bundle, not here.
    const bundled = [...new Set(files.map((f) => /^package\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((name) => name !== undefined))].sort();
    expect(bundled).toEqual(["tldts", "tldts-core", "yaml", "zod"]);
    expect(library.bundledDependencies).toEqual(Object.keys(library.dependencies));
    expect(files.filter((f) => /^package\/dist\/src\/(cli|gateway\/server)/.test(f))).toEqual([]);
    console.info(`packed library: ${statSync(tarball).size} bytes`);
  });

  describe.each(CONSUMERS.map((consumer, index) => ({ ...consumer, index })))("in a fresh project on $label", (consumer) => {
    const project = join(work, `consumer-${consumer.index}`);

    beforeAll(() => {
      mkdirSync(project);
      const isPlatformProvider = (name: string) => BOTH.includes(name);
      const providers = Object.fromEntries(Object.entries(library.peerDependencies as Record<string, string>).filter(([name]) => name.startsWith("@cdktf/provider-") && (!isPlatformProvider(name) || consumer.platformProviders.includes(name))));
      const manifest = {
        name: "rapidclaw-consumer",
        private: true,
        dependencies: { [library.name]: `file:${tarball}`, ...providers, ...consumer.dependencies },
        ...(consumer.overrides ? { overrides: consumer.overrides } : {}),
      };
      writeFileSync(join(project, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
      for (const file of ["main.ts", "tsconfig.json"]) copyFileSync(join(FIXTURE, file), join(project, file));
      run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], project);
      console.info(`consumer on ${consumer.label}: node_modules ${(installedBytes(join(project, "node_modules")) / 1e6).toFixed(1)} MB`);
    }, SETUP_TIMEOUT);

    it("installs only the platform providers the project asked for: the library declares them optional", () => {
      for (const name of BOTH) expect(existsSync(join(project, "node_modules", name)), name).toBe(consumer.platformProviders.includes(name));
    });

    it("installs one copy of cdktf and of constructs, the project's, with every peer satisfied", () => {
      for (const name of ["cdktf", "constructs"]) {
        expect(run("npm", ["ls", name, "--all", "--parseable"], project).split("\n").filter(Boolean)).toEqual([join(project, "node_modules", name)]);
      }
      const installed = (name: string) => JSON.parse(readFileSync(join(project, "node_modules", name, "package.json"), "utf8"));
      expect(`${installed("cdktf").name}@${installed("cdktf").version}`).toBe(consumer.cdktf);
      expect(installed("constructs").version).toBe(consumer.constructs);
      // `npm ls` exits non-zero on an invalid or missing peer; run() fails the test then.
      run("npm", ["ls", "--all"], project);
    });

    it("type-checks a consumer's stack against the installed types", () => {
      run(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-p", "."], project);
    });

    it("synthesizes the firewall and the consumer's own stack with the library's constructs", () => {
      run(process.execPath, [join("dist", "main.js"), consumer.platform], project);
      const stack = (name: string) => JSON.parse(readFileSync(join(project, "cdktf.out", "stacks", name, "cdk.tf.json"), "utf8"));
      const firewall = stack("firewall");
      if (consumer.platform === "docker") {
        const containers = Object.values(firewall.resource.docker_container) as { name: string }[];
        // The proxy, the agent, and the alert pipeline beside the proxy: proxy-events and its Redis.
        expect(containers.map((c) => c.name).sort()).toEqual(["rapidclaw-egress-proxy", "rapidclaw-events-redis", "rapidclaw-proxy-events", "research-agent"]);
        expect(Object.values(firewall.resource.docker_network).some((n: any) => n.internal === true)).toBe(true);
        // proxy-events' program: uploaded from the stack's file asset, copied there from the installed package.
        const upload = (firewall.resource.docker_container as Record<string, any>)[Object.keys(firewall.resource.docker_container).find((id) => firewall.resource.docker_container[id].name === "rapidclaw-proxy-events")!].upload.find((u: any) => u.source !== undefined);
        const asset = readFileSync(join(project, "cdktf.out", "stacks", "firewall", upload.source));
        expect(asset.equals(readFileSync(join(project, "node_modules", library.name, "dist", "gateway", "rapidclaw-gateway.cjs")))).toBe(true);
        expect(createHash("sha256").update(asset).digest("hex")).toBe(upload.source_hash);
        expect(Object.keys(firewall.provider)).not.toContain("kubernetes");
      } else {
        const deployments = Object.values(firewall.resource.kubernetes_deployment_v1) as { metadata: { name: string } }[];
        // The proxy (with its proxy-events sidecar), the alert windows' Redis (no gateway Redis to share), the agent.
        expect(deployments.map((d) => d.metadata.name).sort()).toEqual(["rapidclaw-egress-proxy", "rapidclaw-events-redis", "research-agent"]);
        expect(Object.values(firewall.resource.kubernetes_network_policy_v1).length).toBeGreaterThan(0);
        expect(Object.keys(firewall.provider)).not.toContain("docker");
      }
      const keys = stack("keys");
      expect(Object.values(keys.resource.vault_kv_secret_v2).map((s: any) => s.name)).toEqual(["tools/web-search"]);
      expect(Object.values(keys.resource.vault_policy).map((p: any) => p.name)).toEqual(["rapidclaw-research-agent"]);
      expect(keys.terraform.required_version).toBe(">= 1.11.0");
    });

    it("runs the rapidclaw command from the bundle, without the CLI's dependencies installed", () => {
      expect(readFileSync(join(project, "node_modules", ".bin", "rapidclaw"), "utf8")).toBe(readFileSync(join(REPO, library.bin.rapidclaw), "utf8"));
      for (const name of ["commander", "ioredis", "prom-client", "undici"]) expect(existsSync(join(project, "node_modules", name))).toBe(false);
      expect(run(join(project, "node_modules", ".bin", "rapidclaw"), ["--help"], project)).toMatch(/gateway/);
    });

    it("resolves the package.json and the JSON schema through exports", () => {
      const script = `console.log(require("${library.name}/package.json").version, require("${library.name}/schema/firewall.schema.json").$schema !== undefined)`;
      expect(run(process.execPath, ["-e", script], project).trim()).toBe(`${library.version} true`);
    });
  });
});
