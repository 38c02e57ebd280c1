/** A layer a replay reports on: the gateway's permission, rate limit and token budget, the proxy's host allowlist. */
export type ReplayLayer = "permission" | "rate" | "token_budget" | "host";

/** What a replay makes of one recorded call: its outcome then and under the candidate, or why it cannot say. */
export type ReplayedCall =
  | {
    readonly replayed: true;
    readonly wasAllowed: boolean;
    readonly isAllowed: boolean;
    /** Where the candidate refuses it, or (allowed) where it was refused or would have been. */
    readonly layer: ReplayLayer;
    /** Decided by a sliding window over the recorded calls only (see docs/replay.md). */
    readonly approximate: boolean;
  }
  | { readonly replayed: false; readonly reason: string };
