import type { JobRecord, JobStore, ShardProgress, ShardTotals } from "../../ports/jobStore";

export function sumShards(shards: Iterable<ShardProgress>): ShardTotals {
  const t: ShardTotals = { shards: 0, done: 0, failedShards: 0, rotated: 0, failed: 0, skipped: 0 };
  for (const s of shards) {
    t.shards++;
    if (s.state === "done") t.done++;
    if (s.state === "failed") t.failedShards++;
    t.rotated += s.rotated;
    t.failed += s.failed;
    t.skipped += s.skipped;
  }
  return t;
}

/** Completion rule shared by both stores: every planned shard finished. */
export function completion(job: JobRecord, totals: ShardTotals, now: Date): Partial<JobRecord> | null {
  if (job.state !== "running" || job.shards_total === null) return null;
  if (totals.done + totals.failedShards < job.shards_total) return null;
  return { state: totals.failedShards > 0 ? "failed" : "done", finished_at: now };
}

export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly shards = new Map<string, Map<number, ShardProgress>>();
  private readonly leases = new Map<string, { holder: string; until: number }>();

  async create(job: JobRecord): Promise<void> {
    await Promise.resolve();
    this.jobs.set(job.job_id, { ...job });
  }
  async get(jobId: string): Promise<JobRecord | null> {
    await Promise.resolve();
    const job = this.jobs.get(jobId);
    return job ? { ...job } : null;
  }
  async update(jobId: string, patch: Partial<Omit<JobRecord, "job_id">>): Promise<void> {
    await Promise.resolve();
    const job = this.jobs.get(jobId);
    if (job) this.jobs.set(jobId, { ...job, ...patch });
  }
  async getShard(jobId: string, shard: number): Promise<ShardProgress | null> {
    await Promise.resolve();
    const s = this.shards.get(jobId)?.get(shard);
    return s ? { ...s } : null;
  }
  async putShard(jobId: string, progress: ShardProgress): Promise<void> {
    await Promise.resolve();
    const m = this.shards.get(jobId) ?? new Map<number, ShardProgress>();
    m.set(progress.shard, { ...progress });
    this.shards.set(jobId, m);
  }
  async totals(jobId: string): Promise<ShardTotals> {
    await Promise.resolve();
    return sumShards(this.shards.get(jobId)?.values() ?? []);
  }
  async finishIfComplete(jobId: string, now: Date): Promise<JobRecord | null> {
    const job = await this.get(jobId);
    if (!job) return null;
    const patch = completion(job, await this.totals(jobId), now);
    if (patch) await this.update(jobId, patch);
    return this.get(jobId);
  }
  async acquireLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    await Promise.resolve();
    const l = this.leases.get(name);
    if (l && l.holder !== holder && l.until > now.getTime()) return false;
    this.leases.set(name, { holder, until: now.getTime() + ttlMs });
    return true;
  }
  async releaseLease(name: string, holder: string): Promise<void> {
    await Promise.resolve();
    if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
  }
}
