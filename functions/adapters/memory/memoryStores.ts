import {
  emptyAggregate,
  merge,
  seriesKey,
  type MetricsStore,
  type OperationAggregate,
} from "../../ports/metricsStore";
import { slide, type RateDecision, type RateLimiter } from "../../ports/rateLimiter";

/** Per-process rate limiting, for the memory backend (one instance, tests, demos). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, number[]>();
  constructor(private readonly clock: () => Date = () => new Date()) {}

  async hit(key: string, limit: number): Promise<RateDecision> {
    await Promise.resolve();
    const { decision, hits } = slide(this.windows.get(key) ?? [], this.clock().getTime(), limit);
    this.windows.set(key, hits);
    return decision;
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
