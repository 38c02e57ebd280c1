/**
 * The gateway's per-tool rules in its firewall file against the description's: a missing or
 * looser rate limit, a tool that fails open, an EXECUTE operation that is gone (its calls then
 * need only WRITE), another upstream, or a tool the description does not have, each widens.
 */
import type { FirewallSpecProps, ToolProps } from "../model/types";
import { LayerStatus, type Grant, type LayerCheck } from "./findings";
import type { GatewayFile } from "./gateway-file-reader";

const operations = (tool: ToolProps | undefined) => new Set((tool?.executeOperations ?? []).map((o) => `${o.method} ${o.path}`));

/** Findings of the gateway file's tool rules, as one check over every role. */
export function checkToolRules(description: FirewallSpecProps, file: GatewayFile): LayerCheck {
  const wider: Grant[] = [];
  const expected: string[] = [];
  const widen = (item: string, rule: string) => wider.push({ item, artifact: file.where, rule });
  for (const [name, deployed] of Object.entries(file.props.tools ?? {})) {
    const wanted = description.tools[name];
    if (wanted === undefined) { widen(`tool ${name}, which the description does not have`, `tools.${name}`); continue; }
    const limit = wanted.rateLimit;
    if (limit !== undefined) {
      expected.push(`${name} at most ${limit.maxCalls} calls per ${limit.windowSec}s`);
      const actual = deployed.rateLimit;
      if (actual === undefined) widen(`${name} without its rate limit`, `tools.${name}.rateLimit`);
      // Tighter only if no more calls in a window at least as long.
      else if (actual.maxCalls > limit.maxCalls || actual.windowSec < limit.windowSec) widen(`${name} at most ${actual.maxCalls} calls per ${actual.windowSec}s`, `tools.${name}.rateLimit`);
    }
    if (deployed.failOpen === true && wanted.failOpen !== true) widen(`${name} lets calls through without its limiter`, `tools.${name}.failOpen`);
    const deployedOps = operations(deployed);
    for (const op of operations(wanted)) {
      expected.push(`${name} ${op} needs EXECUTE`);
      if (!deployedOps.has(op)) widen(`${name} ${op} needs only WRITE`, `tools.${name}.executeOperations`);
    }
    if ((deployed.upstream ?? "") !== (wanted.upstream ?? "")) widen(`${name} forwarded to ${deployed.upstream ?? "no upstream"}`, `tools.${name}.upstream`);
  }
  return { principal: "(all roles)", layer: "gateway", aspect: "tool rules", status: wider.length > 0 ? LayerStatus.WIDER : LayerStatus.EQUAL, expected, wider, narrower: [] };
}
