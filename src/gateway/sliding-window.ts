/**
 * The limiter's sliding window (`SLIDING_WINDOW_SCRIPT`) in memory, on times the caller gives:
 * entries at or before `now - window` leave, then the call is counted only when fewer than
 * `maxCalls` remain. A refused call is not counted. For replaying recorded calls in time order.
 */
export class SlidingWindowModel {
  /** Times of the counted calls, in ms, oldest first; `first` is the oldest still in the window. */
  private readonly counted: number[] = [];
  private first = 0;

  constructor(private readonly limit: { readonly maxCalls: number; readonly windowSec: number }) {}

  /** Counts a call at `nowMs` (not before the previous call's time) if it fits; whether it did. */
  take(nowMs: number): boolean {
    const edge = nowMs - this.limit.windowSec * 1000;
    while (this.first < this.counted.length && this.counted[this.first] <= edge) this.first++;
    if (this.counted.length - this.first >= this.limit.maxCalls) return false;
    this.counted.push(nowMs);
    return true;
  }
}
