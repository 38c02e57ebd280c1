import { FirewallSpecError } from "../../src/model/errors";

/** The FirewallSpecError `build` throws; any other outcome fails the test. */
export function failureOf(build: () => unknown): FirewallSpecError {
  try {
    build();
  } catch (error) {
    if (error instanceof FirewallSpecError) return error;
    throw error;
  }
  throw new Error("expected a FirewallSpecError");
}
