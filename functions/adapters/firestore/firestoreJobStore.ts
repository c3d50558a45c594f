import {
  AggregateField,
  FieldPath,
  Timestamp,
  type Firestore,
  type Query,
  type Transaction,
  type WriteBatch,
} from "firebase-admin/firestore";
import { z } from "zod";
import {
  completion,
  zeroCounts,
  type JobRecord,
  type ShardProgress,
  type ShardTotals,
} from "../../domain/jobs";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import type { JobClaim, JobStore, LeaseStore } from "../../ports/jobStore";
import { REQUEST_TTL_MS, type StoredRequest } from "../../ports/requestStore";
import { commitGuarded, guarded, transactGuarded } from "./errors";
import { COLLECTIONS } from "./schema";
import { jobEventKey, jobFinished } from "../../domain/events";
import type { CommitListener } from "../../ports/events";
import { stageEvent } from "./firestoreOutbox";

const ts = z.instanceof(Timestamp).transform((t) => t.toDate());
const jobSchema = z.object({
  job_id: z.string(),
  // Jobs written before job types existed were rotations.
  type: z.enum(["rotation", "rewrap", "reschedule", "scope_rotation"]).default("rotation"),
  state: z.enum(["running", "done", "failed"]),
  kind: z.enum(["user", "global", "all"]),
  dry_run: z.boolean(),
  limit: z.number().nullable(),
  mode: z.enum(["inline", "fanout"]),
  due: z.object({ users: z.number(), globals: z.number() }),
  total: z.number(),
  started_at: ts,
  finished_at: ts.nullable(),
  heartbeat_at: ts,
  shards_total: z.number().nullable(),
  created_by: z.object({ uid: z.string(), via: z.enum(["callable", "scheduler", "task", "cli"]) }),
  correlation_id: z.string(),
  error: z.string().nullable(),
  params: z.record(z.string(), z.number()).default({}),
});
const shardSchema = z.object({
  shard: z.number(),
  state: z.enum(["running", "done", "failed"]),
  size: z.number(),
  done: z.number(),
  failed: z.number(),
  skipped: z.number(),
  attempts: z.number(),
  updated_at: ts,
});

const toFirestore = (patch: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    out[k] = v instanceof Date ? Timestamp.fromDate(v) : v;
  }
  return out;
};

const isFinal = (state: JobRecord["state"] | undefined) => state === "done" || state === "failed";

/**
 * Jobs in `salts_jobs/{job_id}`, shard progress in `salts_jobs/{job_id}/shards/{n}`, leases in `salts_meta`.
 * The write that puts a job in a final state stages its `job.finished` event in the same commit.
 */
export class FirestoreJobStore implements JobStore {
  constructor(
    private readonly db: Firestore,
    private readonly timeoutMs = 20_000,
    private readonly events?: CommitListener,
  ) {}

  private job(jobId: string) {
    return this.db.collection(COLLECTIONS.jobs).doc(jobId);
  }

  list(page: { limit: number; cursor?: string | null | undefined }): Promise<Page<JobRecord>> {
    return guarded("job.list", this.timeoutMs, async () => {
      let q: Query = this.db.collection(COLLECTIONS.jobs).orderBy("started_at", "desc");
      q = q.orderBy(FieldPath.documentId(), "desc");
      if (page.cursor) {
        const c = decodeCursor(page.cursor);
        q = q.startAfter(Timestamp.fromMillis(c.t), c.d);
      }
      const snap = await q.limit(page.limit + 1).get();
      return toPage(
        snap.docs.map((d) => jobSchema.parse(d.data())),
        page.limit,
        (j) => j,
        (j) => ({ t: j.started_at.getTime(), d: j.job_id }),
      );
    });
  }

  /** The job document; a job born finished (a dry run) stages its event with it. */
  private stageJob(writer: Transaction | WriteBatch, job: JobRecord): void {
    writer.create(this.job(job.job_id), toFirestore({ ...job }));
    if (isFinal(job.state))
      stageEvent(this.db, writer, jobFinished(job, zeroCounts(), job.started_at), job.started_at);
  }

  private created(job: JobRecord): void {
    if (isFinal(job.state)) this.events?.committed([jobEventKey(job.job_id)]);
  }

  create(job: JobRecord, claim?: JobClaim): Promise<StoredRequest | null> {
    return guarded("job.create", this.timeoutMs, async (guard) => {
      if (!claim) {
        const batch = this.db.batch();
        this.stageJob(batch, job);
        await commitGuarded(guard, () => batch.commit());
        this.created(job);
        return null;
      }
      const ref = this.db.collection(COLLECTIONS.requests).doc(claim.key);
      const prior = await transactGuarded(this.db, guard, async (tx) => {
        const prior = await tx.get(ref);
        if (prior.exists && (prior.get("expire_at") as Timestamp).toDate() > job.started_at) {
          return {
            fingerprint: prior.get("fingerprint") as string,
            answer: JSON.parse(prior.get("answer") as string),
          };
        }
        tx.set(ref, {
          fingerprint: claim.fingerprint,
          answer: JSON.stringify(claim.answer),
          created_at: Timestamp.fromDate(job.started_at),
          expire_at: Timestamp.fromMillis(job.started_at.getTime() + REQUEST_TTL_MS),
        });
        this.stageJob(tx, job);
        return null;
      });
      if (!prior) this.created(job);
      return prior;
    });
  }

  get(jobId: string): Promise<JobRecord | null> {
    return guarded("job.get", this.timeoutMs, async () => {
      const snap = await this.job(jobId).get();
      return snap.exists ? jobSchema.parse(snap.data()) : null;
    });
  }

  update(jobId: string, patch: Partial<Omit<JobRecord, "job_id">>): Promise<void> {
    return guarded("job.update", this.timeoutMs, async (guard) => {
      if (!isFinal(patch.state)) {
        await this.job(jobId).update(toFirestore(patch));
        return;
      }
      // Finishing: the job's event, with its counts, commits with the state (once: only a running job finishes).
      const totals = await this.totals(jobId);
      const at = patch.finished_at ?? new Date();
      const finished = await transactGuarded(this.db, guard, async (tx) => {
        const snap = await tx.get(this.job(jobId));
        tx.update(this.job(jobId), toFirestore(patch));
        const job = snap.exists ? jobSchema.parse(snap.data()) : null;
        if (job?.state !== "running") return false;
        stageEvent(this.db, tx, jobFinished({ ...job, ...patch, state: patch.state! }, totals, at), at);
        return true;
      });
      if (finished) this.events?.committed([jobEventKey(jobId)]);
    });
  }

  getShard(jobId: string, shard: number): Promise<ShardProgress | null> {
    return guarded("job.getShard", this.timeoutMs, async () => {
      const snap = await this.job(jobId).collection(COLLECTIONS.shards).doc(String(shard)).get();
      return snap.exists ? shardSchema.parse(snap.data()) : null;
    });
  }

  putShard(jobId: string, progress: ShardProgress): Promise<void> {
    return guarded("job.putShard", this.timeoutMs, async () => {
      await this.job(jobId)
        .collection(COLLECTIONS.shards)
        .doc(String(progress.shard))
        .set(toFirestore({ ...progress }));
    });
  }

  totals(jobId: string): Promise<ShardTotals> {
    return guarded("job.totals", this.timeoutMs, async () => {
      const shards = this.job(jobId).collection(COLLECTIONS.shards);
      // The three aggregations read one snapshot (a read-only transaction): read one after the other, a
      // shard finishing in between was counted done by one and left out of the other's sums, and the job
      // finished with its `job.finished` event short of that shard's rotations.
      const [sums, done, failedShards] = await this.db.runTransaction(
        (tx) =>
          Promise.all([
            tx.get(
              shards.aggregate({
                shards: AggregateField.count(),
                done: AggregateField.sum("done"),
                failed: AggregateField.sum("failed"),
                skipped: AggregateField.sum("skipped"),
              }),
            ),
            tx.get(shards.where("state", "==", "done").count()),
            tx.get(shards.where("state", "==", "failed").count()),
          ]),
        { readOnly: true },
      );
      const s = sums.data();
      return {
        shards: s.shards,
        doneShards: done.data().count,
        failedShards: failedShards.data().count,
        done: s.done ?? 0,
        failed: s.failed ?? 0,
        skipped: s.skipped ?? 0,
      };
    });
  }

  finishIfComplete(jobId: string, now: Date): Promise<JobRecord | null> {
    return guarded("job.finish", this.timeoutMs, async (guard) => {
      const totals = await this.totals(jobId);
      const { job, finished } = await transactGuarded(this.db, guard, async (tx) => {
        const snap = await tx.get(this.job(jobId));
        if (!snap.exists) return { job: null, finished: false };
        const stored = jobSchema.parse(snap.data());
        const patch = completion(stored, totals, now);
        if (!patch) return { job: stored, finished: false };
        tx.update(this.job(jobId), toFirestore(patch));
        const done = { ...stored, ...patch };
        stageEvent(this.db, tx, jobFinished(done, totals, now), now);
        return { job: done, finished: true };
      });
      if (finished) this.events?.committed([jobEventKey(jobId)]);
      return job;
    });
  }
}

/** Named leases in `salts_meta/lease_<name>`. */
export class FirestoreLeaseStore implements LeaseStore {
  constructor(
    private readonly db: Firestore,
    private readonly timeoutMs = 20_000,
  ) {}

  acquireLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    return guarded("lease.acquire", this.timeoutMs, (guard) =>
      transactGuarded(this.db, guard, async (tx) => {
        const ref = this.db.collection(COLLECTIONS.meta).doc(`lease_${name}`);
        const snap = await tx.get(ref);
        const until = snap.exists ? (snap.get("until") as Timestamp).toMillis() : 0;
        if (snap.exists && snap.get("holder") !== holder && until > now.getTime()) return false;
        tx.set(ref, { holder, until: Timestamp.fromMillis(now.getTime() + ttlMs) });
        return true;
      }),
    );
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return guarded("lease.release", this.timeoutMs, (guard) =>
      transactGuarded(this.db, guard, async (tx) => {
        const ref = this.db.collection(COLLECTIONS.meta).doc(`lease_${name}`);
        const snap = await tx.get(ref);
        if (snap.exists && snap.get("holder") === holder) tx.delete(ref);
      }),
    );
  }
}
