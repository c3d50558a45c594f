import type { JobRecord, ShardProgress, ShardTotals } from "../domain/jobs";
import type { StoredRequest } from "./requestStore";

/** A request id claimed with the job it started, in the same commit. */
export interface JobClaim {
  key: string;
  fingerprint: string;
  answer: unknown;
}

/** Jobs and their progress. Progress lives in per-shard records, so nothing is a hot spot. */
export interface JobStore {
  /**
   * Creates the job, and with a claim records the request id's first answer in
   * the same commit; when the id was claimed already, nothing is created and
   * the earlier claim is returned.
   */
  create(job: JobRecord, claim?: JobClaim): Promise<StoredRequest | null>;
  get(jobId: string): Promise<JobRecord | null>;
  update(jobId: string, patch: Partial<Omit<JobRecord, "job_id">>): Promise<void>;
  /** Most recent first. */
  list(page: { limit: number; cursor?: string | null | undefined }): Promise<{
    items: JobRecord[];
    nextCursor: string | null;
  }>;
  getShard(jobId: string, shard: number): Promise<ShardProgress | null>;
  putShard(jobId: string, progress: ShardProgress): Promise<void>;
  totals(jobId: string): Promise<ShardTotals>;
  /**
   * Marks a fan-out job done (or failed, when a shard failed) once every shard
   * has finished; exactly one caller wins. Returns the job as it stands.
   */
  finishIfComplete(jobId: string, now: Date): Promise<JobRecord | null>;
}

/** Named leases, so that two sweeps never run at once. */
export interface LeaseStore {
  /** True when `holder` now holds the lease until `now + ttlMs`. */
  acquireLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
}
