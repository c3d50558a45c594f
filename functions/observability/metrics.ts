import type { AuditResult } from "../domain/audit";
import {
  emptyAggregate,
  merge,
  observe,
  seriesKey,
  type MetricsStore,
  type OperationAggregate,
} from "../ports/metricsStore";

/** How often an instance writes its counts to the shared store while it serves calls. */
export const METRICS_FLUSH_MS = 10_000;

/**
 * Collects this instance's observations and adds them to the shared store, so the scrape sees every
 * instance of every function: at the end of a call once METRICS_FLUSH_MS has passed since the
 * instance's last write (`settle`), and otherwise by a timer at that time. An instance so writes at
 * most once per interval however many calls it serves (one series' shards are not a write limit, and
 * a call pays no metrics round trip but when one is due), and a count reaches the scrape within about
 * one interval. A write that fails keeps its counts for the next.
 */
export class MetricsRecorder {
  private pending = new Map<string, OperationAggregate>();
  private lastWrite = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: MetricsStore,
    private readonly opts: { everyMs?: number; now?: () => number; onError?: (e: unknown) => void } = {},
  ) {}

  record(operation: string, result: AuditResult, seconds: number): void {
    const key = seriesKey({ operation, result });
    const agg = this.pending.get(key) ?? emptyAggregate(operation, result);
    observe(agg, seconds);
    this.pending.set(key, agg);
  }

  /**
   * The end of a call: writes the counts if the interval has passed since the last write (awaited, so
   * it runs while the call holds its CPU), or leaves them to the timer. Never throws.
   */
  async settle(): Promise<void> {
    if (this.pending.size === 0) return;
    const every = this.opts.everyMs ?? METRICS_FLUSH_MS;
    const wait = this.lastWrite + every - this.now();
    // Due, or the clock went back past the last write (then it is not waited for).
    if (wait <= 0 || wait > every) return this.write();
    // A timer (which keeps no process alive) writes them once the interval has passed, if no call has.
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.write();
    }, wait).unref();
  }

  /** Writes what is counted now (the sweep's end, tests). Throws what the store threw. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lastWrite = this.now();
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

  private write(): Promise<void> {
    return this.flush().catch((e: unknown) => this.opts.onError?.(e));
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}

/**
 * Requests for a previous version's pseudonym (linking across a rotation), kept in the same store as
 * the operations (result `success`: one was given; `denied`: none, outside the window or not
 * retained) and exposed as their own counter, `salt_link_previous_total{outcome="given"|"none"}`.
 */
export const LINK_PREVIOUS = "link_previous";
