/**
 * The benchmark's floors (bench/floors) must synthesize the library's JSON byte for byte, or
 * `npm run bench` stops: the seed scenario on each platform, once with the library and once with
 * each floor, in-process, compared byte for byte. Keeps the floors from drifting between bench runs.
 */
import { App } from "cdktf";
import { afterAll, describe, expect, it } from "vitest";
import { buildGenericStack } from "../bench/floors/generic";
import { buildHandWrittenStack } from "../bench/floors/hand-written";
import { seedReference } from "../bench/floors/seed";
import { readSynthesized, STACK_ID, temporaryOutdir } from "../bench/lib/synth";
import { AgentPlatform } from "../src/model/types";

const outdir = temporaryOutdir("floors-test");
afterAll(() => outdir.dispose());

describe.each([AgentPlatform.DOCKER, AgentPlatform.KUBERNETES])("the benchmark's floors on %s", (platform) => {
  const reference = seedReference(platform, outdir.path);

  it.each([
    ["hand-written", (app: App) => buildHandWrittenStack(app, STACK_ID, JSON.parse(JSON.stringify(reference.handWritten)))],
    ["generic", (app: App) => buildGenericStack(app, STACK_ID, reference.generic)],
  ] as const)("the %s floor writes the library's JSON byte for byte", (_name, build) => {
    const app = new App({ outdir: outdir.path });
    build(app);
    app.synth();
    const written = readSynthesized(outdir.path);
    // Not toBe on megabytes of JSON: a difference is reported at its first character.
    const at = [...written].findIndex((char, i) => char !== reference.json[i]);
    expect({ length: written.length, firstDifference: at < 0 ? undefined : written.slice(Math.max(0, at - 80), at + 80) }).toEqual({ length: reference.json.length, firstDifference: undefined });
  });
});
