/** Work handed to the task queue: one planning step or one shard of a batch job. */
export type RotationTask =
  | {
      type: "plan";
      job_id: string;
      kinds: ("user" | "global")[];
      kind_index: number;
      cursor: string | null;
      next_shard: number;
      remaining: number;
    }
  | { type: "shard"; job_id: string; shard: number; items: ShardItem[] };

export interface ShardItem {
  kind: "user" | "global";
  id: string;
  /** The version the planner saw: a rotation happens only if it is still current and due. */
  version: number;
}

export interface TaskQueue {
  enqueue(task: RotationTask, dedupeId: string): Promise<void>;
}
