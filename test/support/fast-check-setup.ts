import fc from "fast-check";

// A failing property reports its first counterexample instead of shrinking: shrinking a chained
// fleet arbitrary is synchronous and can run for many minutes, past every test timeout, so a rare
// failure would look like a hang in CI. The seed and path in the report replay it exactly.
fc.configureGlobal({ endOnFailure: true });
