import {
  emptyAggregate,
  merge,
  seriesKey,
  type MetricsStore,
  type OperationAggregate,
} from "../../ports/metricsStore";
import { windowOf, type RateDecision, type RateLimiter } from "../../ports/rateLimiter";

/** Per-process rate limiting, for the memory backend (one instance, tests, demos). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(private readonly clock: () => Date = () => new Date()) {}

  async hit(key: string, limit: number): Promise<RateDecision> {
    await Promise.resolve();
    const { start, end } = windowOf(this.clock());
    const w = this.windows.get(key);
    const count = w && w.start === start ? w.count : 0;
    if (count >= limit) {
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((end - this.clock().getTime()) / 1000)),
        remaining: 0,
      };
    }
    this.windows.set(key, { start, count: count + 1 });
    return { allowed: true, retryAfterSeconds: 0, remaining: limit - count - 1 };
  }
}

export class MemoryMetricsStore implements MetricsStore {
  private readonly totals = new Map<string, OperationAggregate>();

  async add(deltas: OperationAggregate[]): Promise<void> {
    await Promise.resolve();
    for (const d of deltas) {
      const key = seriesKey(d);
      const agg = this.totals.get(key) ?? emptyAggregate(d.operation, d.result);
      merge(agg, d);
      this.totals.set(key, agg);
    }
  }

  async read(): Promise<OperationAggregate[]> {
    await Promise.resolve();
    return [...this.totals.values()].map((a) => ({ ...a, buckets: [...a.buckets] }));
  }
}
