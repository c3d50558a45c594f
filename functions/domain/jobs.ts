import { createHash, randomBytes } from "node:crypto";
import type { ActorVia } from "./audit";
import { encodeDocId, type SaltKind } from "./ids";

/**
 * Batch jobs: a type (what is done to each salt), the salts it covers, and the
 * rules every job follows whatever its type: ids, completion, staleness and
 * idempotence. The engine (usecases/jobs) runs them; stores persist them.
 */
export type JobType = "rotation" | "rewrap" | "reschedule" | "scope_rotation";
export type JobState = "running" | "done" | "failed";
export type JobScope = "user" | "global" | "all";
export type JobMode = "inline" | "fanout";

export const kindsOf = (scope: JobScope): SaltKind[] => (scope === "all" ? ["user", "global"] : [scope]);

/** One salt a job will act on, as the planner saw it: serializable, so it can ride in a task. */
export interface JobItem {
  kind: SaltKind;
  id: string;
  /** The version listed: the action happens only if it is still current. */
  version: number;
}

export interface JobRecord {
  job_id: string;
  type: JobType;
  state: JobState;
  kind: JobScope;
  dry_run: boolean;
  limit: number | null;
  mode: JobMode;
  due: { users: number; globals: number };
  /** Items the job set out to process: min(limit, due) when it started. */
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
  /** What the job type fixed when it started (e.g. the key version a rewrap moves to). */
  params: Record<string, number>;
}

/** What one shard (or the inline run) did; summed for the job's progress. */
export interface JobCounts {
  /** Items acted on (rotated, rewrapped). */
  done: number;
  failed: number;
  /** Items that needed nothing any more (changed meanwhile, no longer due). */
  skipped: number;
}

export const zeroCounts = (): JobCounts => ({ done: 0, failed: 0, skipped: 0 });

export function addCounts(into: JobCounts, add: JobCounts): void {
  into.done += add.done;
  into.failed += add.failed;
  into.skipped += add.skipped;
}

export interface ShardProgress extends JobCounts {
  shard: number;
  state: JobState;
  /** Items the shard was given. */
  size: number;
  attempts: number;
  updated_at: Date;
}

export interface ShardTotals extends JobCounts {
  shards: number;
  doneShards: number;
  failedShards: number;
}

export function sumShards(shards: Iterable<ShardProgress>): ShardTotals {
  const t: ShardTotals = { shards: 0, doneShards: 0, failedShards: 0, ...zeroCounts() };
  for (const s of shards) {
    t.shards++;
    if (s.state === "done") t.doneShards++;
    if (s.state === "failed") t.failedShards++;
    addCounts(t, s);
  }
  return t;
}

export function newJobId(now: Date): string {
  return `job_${now.getTime().toString(36)}_${randomBytes(6).toString("hex")}`;
}

/** Job ids this service issues; anything else is not-found without touching storage. */
export const JOB_ID_PATTERN = /^job_[0-9a-z]{1,12}_[0-9a-f]{12}$/;

/** The same salt version in the same job always gets the same id, so retries recognise their own work. */
export function jobItemId(jobId: string, item: JobItem): string {
  const h = createHash("sha256")
    .update(`${item.kind}\0${encodeDocId(item.id)}\0${item.version}`)
    .digest("hex");
  return `${jobId}.${h.slice(0, 20)}`;
}

/** Every planned shard finished: the job is done, or failed when a shard failed. */
export function completion(job: JobRecord, totals: ShardTotals, now: Date): Partial<JobRecord> | null {
  if (job.state !== "running" || job.shards_total === null) return null;
  if (totals.doneShards + totals.failedShards < job.shards_total) return null;
  return { state: totals.failedShards > 0 ? "failed" : "done", finished_at: now };
}

/**
 * Whether shard `n` renews the job's heartbeat: every `stride`-th shard does, and so does any shard that
 * finds the heartbeat older than a third of the stale window (a slow job, or its striding shards failed).
 */
export function renewsHeartbeat(
  n: number,
  stride: number,
  job: JobRecord,
  now: Date,
  staleSeconds: number,
): boolean {
  return n % stride === 0 || now.getTime() - job.heartbeat_at.getTime() > (staleSeconds * 1000) / 3;
}

/** A running job whose workers wrote nothing for `staleSeconds` has lost its worker. */
export function isStale(job: JobRecord, now: Date, staleSeconds: number): boolean {
  return job.state === "running" && now.getTime() - job.heartbeat_at.getTime() > staleSeconds * 1000;
}

export function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
