import type { AuditResult } from "../domain/audit";
import {
  emptyAggregate,
  merge,
  observe,
  seriesKey,
  type MetricsStore,
  type OperationAggregate,
} from "../ports/metricsStore";

/**
 * Collects this instance's observations and adds them to the shared store after
 * each call, so the scrape sees every instance of every function.
 */
export class MetricsRecorder {
  private pending = new Map<string, OperationAggregate>();

  constructor(private readonly store: MetricsStore) {}

  record(operation: string, result: AuditResult, seconds: number): void {
    const key = seriesKey({ operation, result });
    const agg = this.pending.get(key) ?? emptyAggregate(operation, result);
    observe(agg, seconds);
    this.pending.set(key, agg);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.store.add(batch);
    } catch (e) {
      // Keep the counts for the next flush rather than lose them.
      for (const agg of batch) {
        const again = this.pending.get(seriesKey(agg));
        if (again) merge(again, agg);
        else this.pending.set(seriesKey(agg), agg);
      }
      throw e;
    }
  }
}

/**
 * Requests for a previous version's pseudonym (linking across a rotation), kept in the same store as
 * the operations (result `success`: one was given; `denied`: none, outside the window or not
 * retained) and exposed as their own counter, `salt_link_previous_total{outcome="given"|"none"}`.
 */
export const LINK_PREVIOUS = "link_previous";
