import type { IConstruct } from "constructs";

/**
 * The path construct `id` gets under `scope` (`agent-firewall/tool-gateway`): constructs validate
 * before `super()`, so that nothing is added on bad input, and name themselves by it in errors.
 */
export function pathOfChild(scope: IConstruct, id: string): string {
  return scope.node.path === "" ? id : `${scope.node.path}/${id}`;
}
