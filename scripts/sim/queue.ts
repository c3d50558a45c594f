import type { JobItem } from "../../functions/domain/jobs";
import type { JobTask, TaskQueue } from "../../functions/ports/taskQueue";
import { MinHeap } from "./heap";
import type { Ledger } from "./ledger";
import type { VirtualTime } from "./virtualTime";

/** A shard of synthetic ids `<prefix><n>..` kept as a range, so 10 M queued items cost no memory. */
type Stored =
  | JobTask
  | {
      type: "range";
      task: Omit<JobTask & { type: "shard" }, "items">;
      first: number;
      count: number;
      kind: JobItem["kind"];
      prefix: string;
      version: number;
    };

function compact(task: JobTask): Stored {
  if (task.type !== "shard" || task.items.length === 0) return task;
  const m = /^([a-z]+)(\d+)$/.exec(task.items[0]!.id);
  if (!m) return task;
  const [prefix, first] = [m[1]!, Number(m[2])];
  const { kind, version } = task.items[0]!;
  const contiguous = task.items.every(
    (it, i) => it.id === `${prefix}${first + i}` && it.kind === kind && it.version === version,
  );
  if (!contiguous) return task;
  const { items: _items, ...rest } = task;
  return { type: "range", task: rest, first, count: task.items.length, kind, prefix, version };
}

function expand(s: Stored): JobTask {
  if (s.type !== "range") return s;
  const items = Array.from({ length: s.count }, (_, i) => ({
    kind: s.kind,
    id: `${s.prefix}${s.first + i}`,
    version: s.version,
  }));
  return { ...s.task, items };
}

export interface QueueLimits {
  maxDispatchesPerSecond: number;
  maxConcurrentDispatches: number;
}

/**
 * Cloud Tasks as the model sees it: tasks wait until their schedule time, are
 * dispatched under the queue's rate (a token bucket holding one second of
 * dispatches) and concurrency limits, de-duplicated by name, and each runs the
 * service's own task handler after `dispatchMs`.
 */
export class SimQueue implements TaskQueue {
  private readonly waiting = new MinHeap<{ at: number; task: Stored }>();
  private readonly names = new Set<string>();
  private running = 0;
  private tokens: number;
  private refilledAt: number;
  /** When the pending wake-up fires (Infinity: none). */
  private wakeAt = Number.POSITIVE_INFINITY;
  private idle: (() => void) | null = null;
  enqueued = 0;
  failure: unknown = null;

  constructor(
    private readonly vt: VirtualTime,
    private readonly ledger: Ledger,
    private readonly limits: QueueLimits,
    private readonly dispatchMs: number,
    private readonly handle: (task: JobTask) => Promise<void>,
  ) {
    this.tokens = limits.maxDispatchesPerSecond;
    this.refilledAt = vt.now();
  }

  enqueue(task: JobTask, dedupeId: string, delaySeconds = 0): Promise<void> {
    if (!this.names.has(dedupeId)) {
      this.names.add(dedupeId);
      this.enqueued++;
      this.waiting.push({ at: this.vt.now() + delaySeconds * 1000, task: compact(task) });
      this.pump();
    }
    return Promise.resolve();
  }

  /** Resolves once nothing waits and nothing runs. */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      this.idle = resolve;
      this.checkIdle();
    });
  }

  private checkIdle(): void {
    if (this.idle && this.waiting.size === 0 && this.running === 0) this.idle();
  }

  private refill(): void {
    const rate = this.limits.maxDispatchesPerSecond;
    this.tokens = Math.min(rate, this.tokens + ((this.vt.now() - this.refilledAt) / 1000) * rate);
    this.refilledAt = this.vt.now();
  }

  /** Dispatches what may go now, then wakes up when the next task could. */
  private pump(): void {
    this.refill();
    while (this.running < this.limits.maxConcurrentDispatches && this.tokens >= 1) {
      const next = this.waiting.peek();
      if (!next || next.at > this.vt.now()) break;
      this.waiting.pop();
      this.tokens--;
      this.dispatch(expand(next.task));
    }
    const next = this.waiting.peek();
    // At the concurrency limit, a finishing task pumps again.
    if (!next || this.running >= this.limits.maxConcurrentDispatches) return;
    const tokenAt = this.refilledAt + ((1 - this.tokens) / this.limits.maxDispatchesPerSecond) * 1000;
    // Whole milliseconds, and never now: nothing could go now, so waking now would loop.
    const at = Math.max(next.at, Math.ceil(tokenAt), this.vt.now() + 1);
    if (at >= this.wakeAt) return;
    this.wakeAt = at;
    this.vt.schedule(at - this.vt.now(), () => {
      if (this.wakeAt !== at) return;
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.pump();
    });
  }

  private dispatch(task: JobTask): void {
    this.running++;
    this.ledger.dispatched();
    void this.vt
      .delay(this.dispatchMs)
      .then(() => this.handle(task))
      .catch((e: unknown) => (this.failure ??= e))
      .finally(() => {
        this.running--;
        this.pump();
        this.checkIdle();
      });
  }
}
