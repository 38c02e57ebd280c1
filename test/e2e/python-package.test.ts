import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDockerExample } from "../../examples/docker-stack";
import { skipLoudly } from "./support/prerequisites";

/**
 * The library for Python, as jsii-pacmak builds it: the wheel installed into a fresh virtual
 * environment with cdktf, constructs and the providers from PyPI at the versions the npm build
 * uses; there examples/python/firewall_scenario.py synthesizes the example firewall, whose JSON
 * must equal the TypeScript example's (examples/docker-stack.ts) byte for byte. Prints how long
 * the build, the install and the synthesis took.
 */

const REPO = resolve(__dirname, "../..");
const SETUP_TIMEOUT = 1_200_000;
const PYTHON = "python3";

/** Why the Python package cannot be built and installed here, or undefined when it can. */
function missing(): string | undefined {
  const venv = spawnSync(PYTHON, ["-c", "import venv, ensurepip"], { encoding: "utf8" });
  if (venv.error || venv.status !== 0) return `${PYTHON} with the venv and ensurepip modules is needed (Debian: apt-get install python3 python3-venv): ${venv.error?.message ?? venv.stderr.trim()}`;
  const index = spawnSync(PYTHON, ["-c", "import urllib.request; urllib.request.urlopen('https://pypi.org/simple/cdktf/', timeout=20)"], { encoding: "utf8", timeout: 30_000 });
  if (index.status !== 0) return `PyPI is unreachable: ${index.stderr.trim().split("\n").pop() ?? index.error?.message}`;
  return undefined;
}

const reason = missing();
// In CI a missing prerequisite is a failure, not a skip.
if (reason !== undefined && process.env.CI === "true") throw new Error(`Python package e2e cannot run in CI: ${reason}`);
const SKIP = skipLoudly("Python package e2e", reason);

/** Runs a command, failing with its output when it exits non-zero; returns stdout and the seconds it took. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { stdout: string; seconds: number } {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1", PIP_DISABLE_PIP_VERSION_CHECK: "1", ...env }, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} in ${cwd} exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  return { stdout: result.stdout, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** The version of an npm package as installed here, so that Python gets the same release. */
const npmVersion = (name: string): string => (JSON.parse(readFileSync(join(REPO, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

/** PyPI names of the npm packages the library is built against (jsii's `python.distName` of each). */
const PYPI_NAMES: Readonly<Record<string, string>> = {
  cdktf: "cdktf",
  constructs: "constructs",
  "@cdktf/provider-docker": "cdktf-cdktf-provider-docker",
  "@cdktf/provider-kubernetes": "cdktf-cdktf-provider-kubernetes",
  "@cdktf/provider-random": "cdktf-cdktf-provider-random",
  "@cdktf/provider-time": "cdktf-cdktf-provider-time",
  "@cdktf/provider-vault": "cdktf-cdktf-provider-vault",
};

describe.skipIf(SKIP)("the Python package", () => {
  const work = mkdtempSync(join(tmpdir(), "rapidclaw-python-"));
  const venv = join(work, "venv");
  const python = join(venv, "bin", "python");
  // The jsii runtime in Python runs the library in Node; it warns about Node 20's end of life on every start.
  const quiet = { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: "20" };
  let wheel = "";

  beforeAll(() => {
    const build = run("npx", ["jsii-pacmak", "--targets", "python", "--outdir", join(work, "dist")], REPO);
    const wheels = readdirSync(join(work, "dist", "python")).filter((f) => f.endsWith(".whl"));
    expect(wheels).toHaveLength(1);
    wheel = join(work, "dist", "python", wheels[0]);
    run(PYTHON, ["-m", "venv", venv], work);
    const pins = Object.entries(PYPI_NAMES).map(([npm, pypi]) => `${pypi}==${npmVersion(npm)}`);
    const install = run(python, ["-m", "pip", "install", "--quiet", wheel, ...pins], work);
    console.info(`Python package: jsii-pacmak ${build.seconds.toFixed(0)} s (with the npm build it packs), wheel ${(statSync(wheel).size / 1e6).toFixed(1)} MB; pip install into a fresh venv ${install.seconds.toFixed(0)} s (${pins.join(" ")})`);
  }, SETUP_TIMEOUT);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("declares requirements pip can meet: cdktf and every provider at the npm build's major version", () => {
    const requirements = run(python, ["-c", "import importlib.metadata as m; print('\\n'.join(m.requires('rapidclaw-agent-firewall')))"], work, quiet).stdout.split("\n").filter(Boolean);
    expect(requirements).toEqual(expect.arrayContaining([expect.stringMatching(/^cdktf<0\.25\.0,>=0\.21\.0$/), expect.stringMatching(/^cdktf-cdktf-provider-docker<13\.0\.0,>=12\.0\.3$/)]));
    run(python, ["-m", "pip", "check"], work);
  });

  it("synthesizes the example firewall to the same bytes as the TypeScript example", () => {
    const pythonOut = join(work, "python-out");
    // From the repository, as the TypeScript example runs: the local backend's state path is absolute, from the working directory.
    const synth = run(python, [join(REPO, "examples", "python", "firewall_scenario.py"), pythonOut], REPO, quiet);
    console.info(`Python synthesis of the example: ${synth.seconds.toFixed(1)} s`);
    const typescriptOut = join(work, "typescript-out");
    buildDockerExample(typescriptOut).synth();
    const stack = (outdir: string) => readFileSync(join(outdir, "stacks", "agent-firewall", "cdk.tf.json"), "utf8");
    const fromPython = stack(pythonOut);
    expect(Object.keys(JSON.parse(fromPython).resource)).toEqual(expect.arrayContaining(["docker_container", "vault_policy"]));
    expect(fromPython === stack(typescriptOut)).toBe(true);
  });
});
