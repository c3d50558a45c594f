import {
  completion,
  sumShards,
  type JobRecord,
  type ShardProgress,
  type ShardTotals,
} from "../../domain/jobs";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import type { JobClaim, JobStore, LeaseStore } from "../../ports/jobStore";
import { REQUEST_TTL_MS, type StoredRequest } from "../../ports/requestStore";
import { MemoryState } from "./memoryState";
import { jobEventKey, jobFinished } from "../../domain/events";
import type { CommitListener } from "../../ports/events";
import { stageEvent } from "./memoryOutbox";

const isFinal = (state: JobRecord["state"] | undefined) => state === "done" || state === "failed";

/** Jobs in memory; the change that puts a job in a final state stages its `job.finished` event with it. */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly shards = new Map<string, Map<number, ShardProgress>>();
  private readonly requests: MemoryState["requests"];

  /** `state` is the memory state the salt store shares (its request records, its outbox). */
  constructor(
    private readonly state: MemoryState = new MemoryState(),
    private readonly events?: CommitListener,
  ) {
    this.requests = state.requests;
  }

  /** Sets the job as `job`, with its event when this puts it in a final state (synchronous: atomic). */
  private put(job: JobRecord, before: JobRecord | undefined): void {
    this.jobs.set(job.job_id, { ...job });
    if (!isFinal(job.state) || (before && before.state !== "running")) return;
    const at = job.finished_at ?? job.started_at;
    stageEvent(this.state, jobFinished(job, sumShards(this.shards.get(job.job_id)?.values() ?? []), at), at);
    this.events?.committed([jobEventKey(job.job_id)]);
  }

  async create(job: JobRecord, claim?: JobClaim): Promise<StoredRequest | null> {
    await Promise.resolve();
    const prior = claim ? this.requests.get(claim.key) : undefined;
    if (claim && prior && prior.expiresAt > job.started_at) {
      return { fingerprint: prior.fingerprint, answer: JSON.parse(prior.answer) };
    }
    if (claim) {
      const expiresAt = new Date(job.started_at.getTime() + REQUEST_TTL_MS);
      this.requests.set(claim.key, {
        fingerprint: claim.fingerprint,
        answer: JSON.stringify(claim.answer),
        expiresAt,
      });
    }
    this.put(job, undefined);
    return null;
  }
  async get(jobId: string): Promise<JobRecord | null> {
    await Promise.resolve();
    const job = this.jobs.get(jobId);
    return job ? { ...job } : null;
  }
  async update(jobId: string, patch: Partial<Omit<JobRecord, "job_id">>): Promise<void> {
    await Promise.resolve();
    const job = this.jobs.get(jobId);
    if (job) this.put({ ...job, ...patch }, job);
  }
  async list(page: { limit: number; cursor?: string | null | undefined }): Promise<Page<JobRecord>> {
    await Promise.resolve();
    const after = page.cursor ? decodeCursor(page.cursor) : null;
    const at = (j: JobRecord) => j.started_at.getTime();
    const rows = [...this.jobs.values()]
      .sort((a, b) => at(b) - at(a) || (a.job_id < b.job_id ? 1 : -1))
      .filter((j) => !after || at(j) < after.t || (at(j) === after.t && j.job_id < after.d));
    return toPage(
      rows.slice(0, page.limit + 1),
      page.limit,
      (j) => ({ ...j }),
      (j) => ({ t: at(j), d: j.job_id }),
    );
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
}

export class MemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, { holder: string; until: number }>();

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
