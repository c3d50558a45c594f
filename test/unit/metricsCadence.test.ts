import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryMetricsStore } from "../../functions/adapters/memory/memoryStores";
import { METRICS_FLUSH_MS, MetricsRecorder } from "../../functions/observability/metrics";
import type { OperationAggregate } from "../../functions/ports/metricsStore";

/** A recorder over a memory store whose writes are counted (and can be made to fail), on fake timers. */
function recorder() {
  vi.useFakeTimers({ now: Date.parse("2026-12-03T00:00:00Z") });
  const store = new MemoryMetricsStore();
  const writes: OperationAggregate[][] = [];
  let failing = false;
  const add = store.add.bind(store);
  store.add = async (deltas) => {
    writes.push(deltas);
    if (failing) throw new Error("UNAVAILABLE");
    return add(deltas);
  };
  const errors: unknown[] = [];
  const metrics = new MetricsRecorder(store, { onError: (e) => errors.push(e) });
  const total = async (operation: string) =>
    (await store.read()).find((a) => a.operation === operation && a.result === "success")?.count ?? 0;
  return { metrics, writes, errors, total, fail: (on: boolean) => (failing = on) };
}

describe("an instance writes its metrics at most once per interval", () => {
  afterEach(() => void vi.useRealTimers());

  it("when calls follow each other within the interval, then the first writes at once and the rest wait for one write", async () => {
    const { metrics, writes, total } = recorder();
    metrics.record("status", "success", 0.01);
    await metrics.settle();
    expect(writes).toHaveLength(1);
    for (let i = 0; i < 50; i++) {
      await vi.advanceTimersByTimeAsync(100);
      metrics.record("status", "success", 0.01);
      await metrics.settle();
    }
    expect(writes).toHaveLength(1); // 5 s of calls: no write yet
    expect(await total("status")).toBe(1);
    await vi.advanceTimersByTimeAsync(METRICS_FLUSH_MS - 5_000);
    expect(writes).toHaveLength(2); // the interval has passed: one write of everything counted since
    expect(await total("status")).toBe(51);
  });

  it("when a call ends an interval after the last write and its timer has not run (a throttled instance), then the call writes", async () => {
    const { metrics, writes, total } = recorder();
    metrics.record("status", "success", 0.01);
    await metrics.settle();
    vi.setSystemTime(Date.now() + METRICS_FLUSH_MS); // the clock moves on, timers do not
    metrics.record("status", "success", 0.01);
    await metrics.settle();
    expect(writes).toHaveLength(2);
    expect(await total("status")).toBe(2);
  });

  it("when an instance goes quiet with counts not yet written, then its timer writes them once the interval has passed", async () => {
    const { metrics, writes, total } = recorder();
    metrics.record("status", "success", 0.01);
    await metrics.settle();
    vi.advanceTimersByTime(1_000);
    metrics.record("rotate_user", "success", 0.02);
    await metrics.settle();
    expect(writes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(METRICS_FLUSH_MS - 1_001);
    expect(writes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(writes).toHaveLength(2);
    expect(await total("rotate_user")).toBe(1);
    await vi.advanceTimersByTimeAsync(10 * METRICS_FLUSH_MS);
    expect(writes).toHaveLength(2); // nothing left: no further write
  });

  it("when a write fails, then its counts are kept, not retried before the interval, and written by the next", async () => {
    const { metrics, writes, errors, total, fail } = recorder();
    fail(true);
    metrics.record("erase", "success", 0.05);
    await metrics.settle(); // never throws: the failure is reported
    expect(writes).toHaveLength(1);
    expect(errors).toHaveLength(1);
    metrics.record("erase", "success", 0.05);
    await metrics.settle();
    expect(writes).toHaveLength(1);
    fail(false);
    await vi.advanceTimersByTimeAsync(METRICS_FLUSH_MS);
    expect(writes).toHaveLength(2);
    expect(await total("erase")).toBe(2);
  });

  it("when the clock went back past the last write (a test clock, a corrected host), then the next call writes instead of waiting for it", async () => {
    const { metrics, writes } = recorder();
    metrics.record("status", "success", 0.01);
    await metrics.settle();
    vi.setSystemTime(Date.now() - 60 * 60_000);
    metrics.record("status", "success", 0.01);
    await metrics.settle();
    expect(writes).toHaveLength(2);
  });

  it("when flush is called (the sweep's end), then it writes at once whatever the interval", async () => {
    const { metrics, writes, total } = recorder();
    metrics.record("sweep", "success", 1);
    await metrics.settle();
    metrics.record("sweep", "success", 1);
    await metrics.flush();
    expect(writes).toHaveLength(2);
    expect(await total("sweep")).toBe(2);
  });
});
