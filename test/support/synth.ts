import { Testing, type TerraformStack } from "cdktf";

/** A synthesized stack as parsed JSON, with helpers to pick resources by type. */
export interface SynthesizedStack {
  readonly json: string;
  readonly doc: Record<string, any>;
  resources(type: string): Record<string, any>[];
}

export function synthesize(stack: TerraformStack): SynthesizedStack {
  const json = Testing.synth(stack);
  const doc = JSON.parse(json);
  return {
    json,
    doc,
    resources: (type) => Object.values(doc.resource?.[type] ?? {}),
  };
}

/**
 * Synthesized JSON in one canonical layout, for snapshots: cdktf and CDK Terrain lay out the same
 * document differently (an empty object is `{\n}` in one, `{}` in the other).
 */
export function canonicalJson(json: string): string {
  return JSON.stringify(JSON.parse(json), null, 2);
}
