import type { Counter } from 'prom-client';

// Counts of a prom-client Counter kept per label set, bound once, and added to the Counter
// when it is collected (a scrape). prom-client's inc() builds, checks and hashes the label
// set on every call, which was a few microseconds of every proxied call.

export interface BoundCount {
  inc(): void;
}

export class CounterBatch<L extends string> {
  private readonly bound: Array<{ labels: Partial<Record<L, string>>; count: number }> = [];

  constructor(private readonly counter: Counter<L>) {}

  /** a count for one label set; make it once per label set */
  bind(labels: Partial<Record<L, string>>): BoundCount {
    const entry = { labels, count: 0 };
    this.bound.push(entry);
    // the series shows (at 0) as soon as it is bound, before its first scrape-time add
    this.counter.inc(labels, 0);
    return {
      inc: () => {
        entry.count += 1;
      },
    };
  }

  /** adds what was counted since the last call; the Counter's collect() calls it */
  flush(): void {
    for (const entry of this.bound) {
      if (entry.count === 0) continue;
      this.counter.inc(entry.labels, entry.count);
      entry.count = 0;
    }
  }
}
