/**
 * A bounded buffer shared fairly between keys (the roles): when it is full, the key that would
 * hold the most entries loses its oldest one, so a key flooding the buffer pushes out its own
 * entries, never those of keys holding fewer. Entries are taken in turn from each key, oldest
 * first within a key.
 */
export class FairBuffer<T> {
  /** One queue per key, oldest first; the map's order is the turn order. */
  private readonly queues = new Map<string, T[]>();
  private count = 0;

  constructor(private readonly capacity: number, private readonly keyOf: (item: T) => string) {}

  get size(): number {
    return this.count;
  }

  /**
   * Adds `item` as its key's newest; returns the entry pushed out when the buffer was full (`item`
   * itself when its key, holding nothing yet, would be the largest: every key holds one).
   */
  push(item: T): T | undefined {
    const key = this.keyOf(item);
    let dropped: T | undefined;
    if (this.count >= this.capacity) {
      const victim = this.queues.get(this.largestKey(key));
      if (victim === undefined) return item;
      dropped = victim.shift() as T;
      this.count--;
    }
    this.queueOf(key).push(item);
    this.count++;
    return dropped;
  }

  /** Puts `item` back as its key's oldest (a retry); returns false, keeping nothing, when the buffer is full. */
  unshift(item: T): boolean {
    if (this.count >= this.capacity) return false;
    this.queueOf(this.keyOf(item)).unshift(item);
    this.count++;
    return true;
  }

  /** Takes the oldest entry of the next key in turn. */
  shift(): T | undefined {
    for (const [key, queue] of this.queues) {
      const item = queue.shift() as T;
      this.count--;
      // To the back of the turn order, or gone when empty.
      this.queues.delete(key);
      if (queue.length > 0) this.queues.set(key, queue);
      return item;
    }
    return undefined;
  }

  private queueOf(key: string): T[] {
    let queue = this.queues.get(key);
    if (queue === undefined) this.queues.set(key, (queue = []));
    return queue;
  }

  /** The key holding the most, counting the entry about to be added to `adding` (which wins ties). */
  private largestKey(adding: string): string {
    let largest = adding;
    let most = (this.queues.get(adding)?.length ?? 0) + 1;
    for (const [key, queue] of this.queues) {
      if (queue.length > most) [largest, most] = [key, queue.length];
    }
    return largest;
  }
}
