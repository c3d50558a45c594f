/**
 * Virtual time, so the service's own asynchronous code (the job engine, the
 * pacer, the fan-out) runs as a discrete-event simulation: `Date.now` and
 * `setTimeout` are replaced while the model runs, every pending callback sits
 * in a time-ordered heap, and the clock jumps to the next one once every
 * promise chain has settled. Nothing waits in real time.
 */
import { MinHeap } from "./heap";

type Timer = { at: number; fn: () => void; cancelled: boolean };

export class VirtualTime {
  private readonly heap = new MinHeap<Timer>();
  private current: number;
  /** Callbacks run so far (the model's size in events). */
  events = 0;

  constructor(readonly epoch: number) {
    this.current = epoch;
  }

  now(): number {
    return this.current;
  }

  /** Seconds since the model started. */
  elapsed(): number {
    return (this.current - this.epoch) / 1000;
  }

  schedule(delayMs: number, fn: () => void): Timer {
    const timer = { at: this.current + Math.max(0, delayMs), fn, cancelled: false };
    this.heap.push(timer);
    return timer;
  }

  /** A promise resolved `ms` of virtual time from now: what a storage call's latency costs. */
  delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, resolve));
  }

  /** Runs `body` with Date.now and setTimeout on this clock; restores them afterwards. */
  async run<T>(body: () => Promise<T>): Promise<T> {
    const saved = { now: Date.now, setTimeout: globalThis.setTimeout, clear: globalThis.clearTimeout };
    const yieldReal = () => new Promise<void>((r) => setImmediate(r));
    Date.now = () => this.current;
    globalThis.setTimeout = ((fn: () => void, ms?: number) =>
      this.schedule(ms ?? 0, fn)) as unknown as typeof setTimeout;
    globalThis.clearTimeout = ((t?: Timer) => {
      if (t) t.cancelled = true;
    }) as unknown as typeof clearTimeout;
    try {
      let done = false;
      let failure: unknown = null;
      let result: T | undefined;
      body().then(
        (r) => ((result = r), (done = true)),
        (e: unknown) => ((failure = e), (done = true)),
      );
      for (;;) {
        // Every microtask chain settles before the clock moves (setImmediate runs after them).
        await yieldReal();
        if (done) break;
        const next = this.heap.peek();
        if (!next) throw new Error("the model stalled: nothing left to happen and the run did not finish");
        this.current = Math.max(this.current, next.at);
        // Everything due at this instant runs before the promises it settles: one real yield per instant.
        while (this.heap.peek()?.at === next.at) {
          const timer = this.heap.pop()!;
          this.events++;
          if (!timer.cancelled) timer.fn();
        }
      }
      if (failure !== null) throw failure;
      return result as T;
    } finally {
      Date.now = saved.now;
      globalThis.setTimeout = saved.setTimeout;
      globalThis.clearTimeout = saved.clear;
    }
  }
}
