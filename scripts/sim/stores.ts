import type { SaltKind } from "../../functions/domain/ids";
import { encodeDocId, indexShard } from "../../functions/domain/ids";
import {
  completion,
  sumShards,
  type JobRecord,
  type ShardProgress,
  type ShardTotals,
} from "../../functions/domain/jobs";
import { decodeCursor, encodeCursor, type Page } from "../../functions/domain/paging";
import type { SaltRecord } from "../../functions/domain/salt";
import type { JobClaim, JobStore } from "../../functions/ports/jobStore";
import type { StoredRequest } from "../../functions/ports/requestStore";
import type {
  BatchRotateItem,
  ListedSalt,
  PageRequest,
  RotateOutcome,
} from "../../functions/ports/saltStore";
import type { Ledger } from "./ledger";
import type { VirtualTime } from "./virtualTime";

/**
 * What storage costs in time, a model input (production Firestore, same
 * region; assumptions, not measurements: see docs/SCALE.md). Every figure in
 * milliseconds.
 */
export interface Latency {
  /** One document read or write. */
  docMs: number;
  /** A query: fixed part, and per document returned. */
  queryMs: number;
  queryPerDocMs: number;
  /** A batched read (getAll), per document. */
  getAllPerDocMs: number;
  /** A commit: fixed part, and per document written. */
  commitMs: number;
  commitPerWriteMs: number;
  /** An aggregation, per million index entries counted. */
  countPerMillionMs: number;
  /** Cloud Tasks to a warm function instance: dispatch and HTTP. */
  dispatchMs: number;
}

export const DEFAULT_LATENCY: Latency = {
  docMs: 15,
  queryMs: 40,
  queryPerDocMs: 0.15,
  getAllPerDocMs: 0.05,
  commitMs: 40,
  commitPerWriteMs: 0.2,
  countPerMillionMs: 1000,
  dispatchMs: 50,
};

/** The due salts of the model: `u<n>`/`g<n>` ids, all due, listed in index order. */
export class SimSaltStore {
  private readonly due: Record<SaltKind, number>;
  private readonly epoch = new Date(0);

  constructor(
    private readonly vt: VirtualTime,
    private readonly ledger: Ledger,
    private readonly latency: Latency,
    private readonly template: Map<string, number>,
    users: number,
    globals: number,
  ) {
    this.due = { user: users, global: globals };
  }

  static idOf(kind: SaltKind, n: number): string {
    return `${kind === "user" ? "u" : "g"}${n}`;
  }

  private record(kind: SaltKind, n: number): SaltRecord {
    const at = this.epoch;
    return {
      kind,
      id: SimSaltStore.idOf(kind, n),
      version: 1,
      created_at: at,
      last_rotated: at,
      rotation_count: 0,
      next_rotation: at,
      previous_salt_hash: null,
      salt_hash: "0000000000000000",
      last_rotation_id: null,
    };
  }

  async countDue(kind: SaltKind): Promise<number> {
    this.ledger.aggregation(this.due[kind]);
    await this.vt.delay(this.latency.queryMs + (this.due[kind] / 1e6) * this.latency.countPerMillionMs);
    return this.due[kind];
  }

  async listDue(kind: SaltKind, page: PageRequest): Promise<Page<SaltRecord>> {
    const start = page.cursor ? decodeCursor(page.cursor).t + 1 : 0;
    const end = Math.min(this.due[kind], start + page.limit);
    const items = Array.from({ length: Math.max(0, end - start) }, (_, i) => this.record(kind, start + i));
    this.ledger.read(Math.max(1, items.length));
    await this.vt.delay(this.latency.queryMs + items.length * this.latency.queryPerDocMs);
    const more = end < this.due[kind];
    return {
      items,
      nextCursor: more ? encodeCursor({ t: end - 1, d: SimSaltStore.idOf(kind, end - 1) }) : null,
    };
  }

  async listDueForRotation(kind: SaltKind, page: PageRequest): Promise<Page<ListedSalt>> {
    const listed = await this.listDue(kind, page);
    return { items: listed.items.map((record) => ({ record, handle: null })), nextCursor: listed.nextCursor };
  }

  /** Reads the chunk again (getAll), then commits its writes in one batch. */
  async rotateMany(items: BatchRotateItem[]): Promise<RotateOutcome[]> {
    this.ledger.read(items.length);
    await this.vt.delay(this.latency.docMs + items.length * this.latency.getAllPerDocMs);
    return this.commit(items);
  }

  rotateListed(
    items: { listed: ListedSalt; request: BatchRotateItem["request"] }[],
  ): Promise<RotateOutcome[]> {
    return this.commit(
      items.map((i) => ({ kind: i.listed.record.kind, id: i.listed.record.id, request: i.request })),
    );
  }

  private async commit(items: BatchRotateItem[]): Promise<RotateOutcome[]> {
    const writes = items.length * [...this.template.values()].reduce((a, b) => a + b, 0);
    await this.vt.delay(this.latency.commitMs + writes * this.latency.commitPerWriteMs);
    this.ledger.rotations(
      this.template,
      items.map((i) => indexShard(encodeDocId(i.id))),
    );
    return items.map((i) => ({
      status: "rotated",
      record: { ...this.record(i.kind, 0), id: i.id, version: 2 },
      rotationId: i.request.rotationId,
    }));
  }
}

/**
 * Jobs and shard progress kept in memory, charged as Firestore would charge
 * them (latency, reads, writes per document, aggregation reads), with running
 * totals so that a job of 20,000 shards does not cost the model O(n^2); the
 * decision to finish is the domain's own (`completion`).
 */
export class SimJobStore implements JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly shards = new Map<string, Map<number, ShardProgress>>();
  private readonly sums = new Map<string, ShardTotals>();

  constructor(
    private readonly vt: VirtualTime,
    private readonly ledger: Ledger,
    private readonly latency: Latency,
  ) {}

  private async op(reads: number, ms = this.latency.docMs): Promise<void> {
    this.ledger.read(reads);
    await this.vt.delay(ms);
  }

  async create(job: JobRecord, _claim?: JobClaim): Promise<StoredRequest | null> {
    await this.op(0);
    this.ledger.writeDoc("salts_jobs", job.job_id);
    this.jobs.set(job.job_id, { ...job });
    this.sums.set(job.job_id, sumShards([]));
    return null;
  }
  async get(jobId: string): Promise<JobRecord | null> {
    await this.op(1);
    const job = this.jobs.get(jobId);
    return job ? { ...job } : null;
  }
  async update(jobId: string, patch: Partial<Omit<JobRecord, "job_id">>): Promise<void> {
    await this.op(0);
    this.ledger.writeDoc("salts_jobs", jobId);
    const job = this.jobs.get(jobId);
    if (job) this.jobs.set(jobId, { ...job, ...patch });
  }
  list(): Promise<Page<JobRecord>> {
    return Promise.resolve({ items: [...this.jobs.values()], nextCursor: null });
  }
  async getShard(jobId: string, shard: number): Promise<ShardProgress | null> {
    await this.op(1);
    return this.shards.get(jobId)?.get(shard) ?? null;
  }
  async putShard(jobId: string, progress: ShardProgress): Promise<void> {
    await this.op(0);
    this.ledger.writeDoc("shards", `${jobId}/${progress.shard}`);
    const shards = this.shards.get(jobId) ?? new Map<number, ShardProgress>();
    this.shards.set(jobId, shards);
    const before = shards.get(progress.shard);
    shards.set(progress.shard, { ...progress });
    const sums = this.sums.get(jobId)!;
    const [was, now] = [sumShards(before ? [before] : []), sumShards([progress])];
    for (const k of Object.keys(sums) as (keyof ShardTotals)[]) sums[k] += now[k] - was[k];
  }
  async totals(jobId: string): Promise<ShardTotals> {
    const totals = { ...this.sums.get(jobId)! };
    // Three aggregations over the job's shard documents (sums, done count, failed count), in parallel.
    for (let i = 0; i < 3; i++) this.ledger.aggregation(totals.shards);
    await this.vt.delay(this.latency.queryMs + (totals.shards / 1e6) * this.latency.countPerMillionMs);
    return totals;
  }
  async finishIfComplete(jobId: string, now: Date): Promise<JobRecord | null> {
    const totals = await this.totals(jobId);
    await this.op(1);
    const job = this.jobs.get(jobId);
    if (!job) return null;
    const patch = completion(job, totals, now);
    if (!patch) return { ...job };
    this.ledger.writeDoc("salts_jobs", jobId);
    this.jobs.set(jobId, { ...job, ...patch });
    return { ...job, ...patch };
  }
}
