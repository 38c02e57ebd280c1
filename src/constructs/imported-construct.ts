import { Construct } from "constructs";

/**
 * A construct standing for something made outside the stack (what `fromXxx` imports return): it
 * carries the attributes it is known by and adds nothing to the synthesized output.
 */
export function importedConstruct<T extends object>(scope: Construct, id: string, attributes: T): Construct & T {
  return Object.assign(new Construct(scope, id), attributes);
}
