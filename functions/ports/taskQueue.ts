import type { JobItem } from "../domain/jobs";
import type { SaltKind } from "../domain/ids";

/** Work handed to the task queue: one planning step or one shard of a batch job. */
export type JobTask =
  | {
      type: "plan";
      job_id: string;
      /** Index into the job's sources (salt kinds) and the position within it. */
      source_index: number;
      cursor: string | null;
      next_shard: number;
      remaining: number;
    }
  | { type: "shard"; job_id: string; shard: number; items: JobItem[] };

export type { SaltKind };

export interface TaskQueue {
  /** Enqueues once per `dedupeId`; `delaySeconds` defers dispatch (ramp-up). */
  enqueue(task: JobTask, dedupeId: string, delaySeconds?: number): Promise<void>;
}
