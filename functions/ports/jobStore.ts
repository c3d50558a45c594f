import type { ActorVia } from "../domain/audit";

export type JobState = "running" | "done" | "failed";
export type JobKind = "user" | "global" | "all";

/** A batch rotation job. Progress lives in per-shard documents, not here, so nothing is a hot spot. */
export interface JobRecord {
  job_id: string;
  state: JobState;
  kind: JobKind;
  dry_run: boolean;
  limit: number | null;
  mode: "inline" | "fanout";
  due: { users: number; globals: number };
  /** Salts the job set out to rotate: min(limit, due) when it started. */
  total: number;
  started_at: Date;
  finished_at: Date | null;
  /** Renewed while an instance works on the job; a stale one means the worker died. */
  heartbeat_at: Date;
  /** Set once every shard of a fan-out job has been handed to the queue. */
  shards_total: number | null;
  created_by: { uid: string; via: ActorVia };
  correlation_id: string;
  error: string | null;
}

export interface ShardProgress {
  shard: number;
  state: "running" | "done" | "failed";
  /** Items the shard was given. */
  size: number;
  rotated: number;
  failed: number;
  skipped: number;
  attempts: number;
  updated_at: Date;
}

export interface ShardTotals {
  shards: number;
  done: number;
  failedShards: number;
  rotated: number;
  failed: number;
  skipped: number;
}

export interface JobStore {
  create(job: JobRecord): Promise<void>;
  get(jobId: string): Promise<JobRecord | null>;
  update(jobId: string, patch: Partial<Omit<JobRecord, "job_id">>): Promise<void>;
  getShard(jobId: string, shard: number): Promise<ShardProgress | null>;
  putShard(jobId: string, progress: ShardProgress): Promise<void>;
  totals(jobId: string): Promise<ShardTotals>;
  /**
   * Marks a fan-out job done (or failed, when a shard failed) once every shard
   * has finished; exactly one caller wins. Returns the job as it stands.
   */
  finishIfComplete(jobId: string, now: Date): Promise<JobRecord | null>;
  /** A named lease: true when `holder` now holds it until `now + ttlMs`. */
  acquireLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
}
