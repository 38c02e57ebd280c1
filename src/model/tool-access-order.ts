import type { ToolAccess } from "./types";
import { accessAllows } from "./validate";

/** The order of tool access levels, DENY < READ < WRITE < EXECUTE. */
export class ToolAccessOrder {
  /** Whether `granted` access includes `wanted`. */
  public static allows(granted: ToolAccess, wanted: ToolAccess): boolean {
    return accessAllows(granted, wanted);
  }

  private constructor() {}
}
