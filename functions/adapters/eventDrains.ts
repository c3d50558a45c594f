import { getFunctions } from "firebase-admin/functions";
import { unavailable } from "../domain/errors";
import { DRAIN_WINDOW_MS, type DrainTaskData } from "../domain/events";
import type { DrainRequester } from "../ports/events";

export const EVENTS_TASK_FUNCTION = "salts-publishEvents";
/**
 * Asks the `salts-publishEvents` task queue for a drain at the end of the current
 * window (named tasks: every instance asking in the same window gets the same
 * task, and this instance asks once per window). So every commit of a window is
 * seen by its window's drain, which runs after the window ended (drainWaitMs);
 * the scheduled drain covers an instance that stopped before it asked.
 */
export class CloudTasksDrainRequester implements DrainRequester {
  private lastWindow = -1;

  constructor(
    private readonly location: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async request(): Promise<void> {
    const now = this.clock().getTime();
    const window = Math.floor(now / DRAIN_WINDOW_MS);
    if (window === this.lastWindow) return;
    const end = (window + 1) * DRAIN_WINDOW_MS;
    try {
      await getFunctions()
        .taskQueue(`locations/${this.location}/functions/${EVENTS_TASK_FUNCTION}`)
        .enqueue({ drain: true, after: end } satisfies DrainTaskData, {
          id: `events-${window}`,
          scheduleDelaySeconds: Math.ceil((end - now) / 1000),
        });
      this.lastWindow = window;
    } catch (e) {
      if ((e as { code?: string }).code === "functions/task-already-exists") {
        this.lastWindow = window;
        return;
      }
      throw unavailable("The task queue did not accept the drain", e);
    }
  }
}

/**
 * Drains in this process (the memory backend, tests): one drain at a time, and
 * one that fails is run again with a growing pause (timers that do not keep the
 * process alive), as the task queue would retry it.
 */
export class InProcessDrainRequester implements DrainRequester {
  private running: Promise<void> | null = null;
  private again = false;
  private failures = 0;

  constructor(private readonly drain: () => Promise<unknown>) {}

  request(): Promise<void> {
    if (this.running) {
      this.again = true;
      return Promise.resolve();
    }
    this.running = this.run().finally(() => {
      this.running = null;
    });
    return Promise.resolve();
  }

  /** Resolves when no drain is running (tests). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.drain();
        this.failures = 0;
      } catch {
        this.failures++;
        const pause = Math.min(30_000, 250 * 2 ** this.failures);
        setTimeout(() => void this.request(), pause).unref();
        return;
      }
    } while (this.again);
  }
}
