/**
 * `rapidclaw verify` on a stack synthesized by `app.synth()` into a real cdktf.out directory: the
 * table, `--json`, `--config`, and the exit codes (0 nothing wider, 1 wider, 2 bad input).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { App } from "cdktf";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { RapidClawStack } from "../src";
import type { CliIo } from "../src/cli/cli-io";
import { EXIT } from "../src/cli/exit-codes";
import { registerVerifyCommand } from "../src/cli/verify-command";
import { AgentPlatform } from "../src/model/types";
import { fronted } from "./support/gateway-spec";

const dir = mkdtempSync(join(tmpdir(), "rapidclaw-verify-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rapidclaw(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
  const result = { out: "", err: "", code: undefined as number | undefined };
  const io: CliIo = { stdin: Readable.from([""]), out: (t) => (result.out += t), err: (t) => (result.err += t), exit: (c) => (result.code = c) };
  const program = new Command("rapidclaw").exitOverride();
  registerVerifyCommand(program, io);
  await program.parseAsync(args, { from: "user" });
  return result;
}

const props = fronted(AgentPlatform.DOCKER);
const app = new App({ outdir: join(dir, "cdktf.out") });
new RapidClawStack(app, "agent-firewall", props);
app.synth();
const stackDir = join(dir, "cdktf.out", "stacks", "agent-firewall");
const configFile = join(dir, "firewall.yaml");
writeFileSync(configFile, stringify(props));

describe("rapidclaw verify", () => {
  it("prints a table per role and layer and exits 0 on the stack as synthesized, from the directory or the file", async () => {
    const run = await rapidclaw(["verify", stackDir]);
    expect(run.code).toBe(EXIT.OK);
    expect(run.out).toMatch(/^rapidclaw verify: docker stack against docker_container\.tool-gateway_docker_container_\w+ upload \/etc\/rapidclaw\/firewall\.json \(embedded/);
    expect(run.out).toContain("role research_agent\n  layer    aspect            status\n  network  proxy hosts       equal\n");
    expect(run.out).toContain("What a layer cannot express:\n");
    expect(run.out.trimEnd().split("\n").at(-1)).toBe("No layer is wider than the description.");
    expect((await rapidclaw(["verify", join(stackDir, "cdk.tf.json"), "--config", configFile])).code).toBe(EXIT.OK);
  });

  it("exits 1 on a widened stack, naming the artifact and the rule; --json for CI", async () => {
    const json = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8"));
    const policy = Object.entries(json.resource.vault_policy as Record<string, { policy: string }>).find(([id]) => id.startsWith("role-research-agent_policy"))?.[1];
    if (!policy) throw new Error("no research_agent policy");
    policy.policy += 'path "agent-keys/data/tools/send-email" {\n  capabilities = ["read"]\n}\n';
    const widened = join(dir, "widened.tf.json");
    writeFileSync(widened, JSON.stringify(json));
    const run = await rapidclaw(["verify", widened, "--config", configFile]);
    expect(run.code).toBe(EXIT.LAYER_WIDER);
    expect(run.out).toMatch(/Wider than the description:\n  - research_agent keys key paths: read agent-keys\/data\/tools\/send-email\n      by vault_policy\.role-research-agent_policy_\w+: path "agent-keys\/data\/tools\/send-email"\n/);
    const report = JSON.parse((await rapidclaw(["verify", widened, "--json"])).out);
    expect(report.wider).toBe(1);
    expect(report.checks.find((c: { status: string }) => c.status === "wider")).toMatchObject({ principal: "research_agent", layer: "keys", aspect: "key paths" });
  });

  it("exits 2 with one line for a missing stack, a bad description, or a stack without a gateway and no --config", async () => {
    const missing = await rapidclaw(["verify", join(dir, "nowhere")]);
    expect([missing.code, missing.err]).toEqual([EXIT.USAGE, expect.stringMatching(/^rapidclaw: cannot read .*nowhere: no such file \(give a stack directory/)]);
    writeFileSync(join(dir, "bad.yaml"), "platform: docker\nmodelHosts: []\ntools: {}\nroles: {}\n");
    expect((await rapidclaw(["verify", stackDir, "--config", join(dir, "bad.yaml")])).code).toBe(EXIT.USAGE);
    const bare = new App({ outdir: join(dir, "bare.out") });
    new RapidClawStack(bare, "plain", { ...props, tools: { web_search: {} }, roles: { research_agent: {} }, agents: [], vault: undefined });
    bare.synth();
    const run = await rapidclaw(["verify", join(dir, "bare.out", "stacks", "plain")]);
    expect([run.code, run.err]).toEqual([EXIT.USAGE, expect.stringContaining("pass the firewall description with --config")]);
  });
});
