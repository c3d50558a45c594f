import { getFunctions } from "firebase-admin/functions";
import { unavailable } from "../domain/errors";
import type { JobTask, TaskQueue } from "../ports/taskQueue";

export const JOB_TASK_FUNCTION = "salts-rotateShard";

/** Cloud Tasks through firebase-admin: the queue of the `salts-rotateShard` task function. */
export class CloudTaskQueue implements TaskQueue {
  constructor(private readonly location: string) {}

  async enqueue(task: JobTask, dedupeId: string, delaySeconds = 0): Promise<void> {
    try {
      await getFunctions()
        .taskQueue(`locations/${this.location}/functions/${JOB_TASK_FUNCTION}`)
        .enqueue(task, {
          id: dedupeId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 480),
          dispatchDeadlineSeconds: 1800,
          ...(delaySeconds > 0 ? { scheduleDelaySeconds: Math.ceil(delaySeconds) } : {}),
        });
    } catch (e) {
      // A task with this id exists already: it was enqueued by an earlier attempt.
      if ((e as { code?: string }).code === "functions/task-already-exists") return;
      throw unavailable("The task queue did not accept the work", e);
    }
  }
}

/** Runs one task; `finalAttempt` is true on the last try, as the queue's retry count would say. */
export type TaskHandler = (task: JobTask, finalAttempt: boolean) => Promise<void>;

/**
 * Runs tasks in this process, one after another, retrying like the queue would
 * (tests, the memory backend). Delays are not waited out: order is kept.
 */
export class InProcessTaskQueue implements TaskQueue {
  private chain: Promise<void> = Promise.resolve();
  private readonly seen = new Set<string>();

  constructor(
    private readonly handler: TaskHandler,
    private readonly maxAttempts = 3,
  ) {}

  async enqueue(task: JobTask, dedupeId: string): Promise<void> {
    if (this.seen.has(dedupeId)) return;
    this.seen.add(dedupeId);
    this.chain = this.chain.then(async () => {
      for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
        try {
          await this.handler(task, attempt === this.maxAttempts - 1);
          return;
        } catch {
          // retried like Cloud Tasks would
        }
      }
    });
    await Promise.resolve();
  }

  /** Resolves when every queued task has run. */
  async drain(): Promise<void> {
    // Tasks may enqueue more tasks: wait until the chain stops growing.
    let current: Promise<void>;
    do {
      current = this.chain;
      await current;
    } while (current !== this.chain);
  }
}
