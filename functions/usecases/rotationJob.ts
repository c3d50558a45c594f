import { createHash, randomBytes } from "node:crypto";
import type { ServiceRuntime } from "../app/runtime";
import { isUnavailable, notFound, SaltServiceError } from "../domain/errors";
import type { SaltKind } from "../domain/ids";
import { encodeDocId } from "../domain/ids";
import { logs } from "../observability/logs";
import type { JobKind, JobRecord, JobState, ShardProgress } from "../ports/jobStore";
import type { BatchRotateItem, ListedSalt, Page, RotateOutcome } from "../ports/saltBackend";
import type { RotationTask, ShardItem } from "../ports/taskQueue";
import { auditContext, type CallContext } from "./context";
import { rotateOperation } from "./rotateSalt";

export interface RotateDueInput {
  kind: JobKind;
  limit?: number | undefined;
  dry_run: boolean;
}

export interface RotateDueResponse {
  job_id: string;
  dry_run: boolean;
  due: { users: number; globals: number };
  rotated: number;
  failed: number;
  queued: number;
  mode: "inline" | "fanout" | "dry_run";
}

export interface JobStatusResponse {
  job_id: string;
  state: JobState;
  total: number;
  rotated: number;
  failed: number;
  skipped: number;
  started_at: string;
  finished_at?: string;
  mode: "inline" | "fanout";
  dry_run: boolean;
  due: { users: number; globals: number };
  shards: { total: number | null; done: number; failed: number };
  error?: string;
}

/** Pages (of ROTATION_PAGE_SIZE) one planning task lists and hands to the queue before passing the rest on. */
const PLAN_PAGES_PER_STEP = 4;

const kindsOf = (kind: JobKind): SaltKind[] => (kind === "all" ? ["user", "global"] : [kind]);

export function newJobId(now: Date): string {
  return `job_${now.getTime().toString(36)}_${randomBytes(6).toString("hex")}`;
}

/** The same salt version in the same job always gets the same rotation id, so retries recognise their own work. */
export function jobRotationId(jobId: string, item: ShardItem): string {
  const h = createHash("sha256")
    .update(`${item.kind}\0${encodeDocId(item.id)}\0${item.version}`)
    .digest("hex");
  return `${jobId}.${h.slice(0, 20)}`;
}

interface Counts {
  rotated: number;
  failed: number;
  skipped: number;
}

/** Rotations committed together in one transaction by a batch job. */
const CHUNK = 150;

/**
 * Rotates items in chunks (one transaction each, every rotation with its audit
 * entry) with bounded parallelism, each only if still due and still at the
 * version the job saw. A chunk that fails for another reason than an outage is
 * retried item by item, so one bad record fails alone. A storage outage stops
 * the batch (what was committed stays committed) and is rethrown.
 */
export function rotateItems(
  rt: ServiceRuntime,
  ctx: CallContext,
  jobId: string,
  items: ShardItem[],
): Promise<Counts> {
  return rotateUnits(
    rt,
    ctx,
    jobId,
    items.map((item) => ({ item })),
  );
}

/** A salt to rotate; `listed` when this process listed it (then it need not be read again). */
interface Unit {
  item: ShardItem;
  listed?: ListedSalt;
}

async function rotateUnits(
  rt: ServiceRuntime,
  ctx: CallContext,
  jobId: string,
  units: Unit[],
): Promise<Counts> {
  const counts: Counts = { rotated: 0, failed: 0, skipped: 0 };
  const requestOf = (item: ShardItem): BatchRotateItem => ({
    kind: item.kind,
    id: item.id,
    request: {
      rotationId: jobRotationId(jobId, item),
      ifVersion: item.version,
      onlyIfDue: true,
      audit: auditContext(ctx, rotateOperation(item.kind), `rotate_due job ${jobId}`),
    },
  });
  const tally = (item: BatchRotateItem, out: RotateOutcome) => {
    // A rotation this job made on an earlier attempt shows as "version changed" with our rotation id.
    if (out.status === "rotated" || out.record?.last_rotation_id === item.request.rotationId) {
      counts.rotated++;
      rt.cache.invalidate(item.kind, item.id);
    } else counts.skipped++;
  };
  const runChunk = (chunk: Unit[], requests: BatchRotateItem[]): Promise<RotateOutcome[]> =>
    chunk.every((u) => u.listed)
      ? rt.backend.rotateListed(chunk.map((u, i) => ({ listed: u.listed!, request: requests[i]!.request })))
      : rt.backend.rotateMany(requests);
  const chunks: Unit[][] = [];
  for (let i = 0; i < units.length; i += CHUNK) chunks.push(units.slice(i, i + CHUNK));

  let outage: unknown = null;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (outage === null && next < chunks.length) {
      const chunk = chunks[next++]!;
      const requests = chunk.map((u) => requestOf(u.item));
      try {
        const outcomes = await runChunk(chunk, requests);
        requests.forEach((item, i) => tally(item, outcomes[i]!));
      } catch (e) {
        if (isUnavailable(e)) {
          outage ??= e;
          return;
        }
        for (const item of requests) {
          try {
            tally(item, await rt.backend.rotate(item.kind, item.id, item.request));
          } catch (single) {
            if (isUnavailable(single)) {
              outage ??= single;
              return;
            }
            counts.failed++;
            logs.unexpectedError("rotate_due.item", ctx.correlationId, single);
          }
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(rt.config.concurrency, chunks.length) }, worker));
  if (outage !== null) throw outage;
  return counts;
}

async function countDue(rt: ServiceRuntime, kinds: SaltKind[]): Promise<{ users: number; globals: number }> {
  const [users, globals] = await Promise.all([
    kinds.includes("user") ? rt.backend.countDue("user") : 0,
    kinds.includes("global") ? rt.backend.countDue("global") : 0,
  ]);
  return { users, globals };
}

/** Plans a batch job, then rotates inline (small) or fans out to the task queue (large). */
export async function startRotateDue(
  rt: ServiceRuntime,
  ctx: CallContext,
  input: RotateDueInput,
): Promise<RotateDueResponse> {
  const kinds = kindsOf(input.kind);
  const due = await countDue(rt, kinds);
  const total = Math.min(input.limit ?? Number.POSITIVE_INFINITY, due.users + due.globals);
  const now = rt.clock();
  const jobId = newJobId(now);
  const inline = total <= rt.config.inlineLimit;
  const job: JobRecord = {
    job_id: jobId,
    state: "running",
    kind: input.kind,
    dry_run: input.dry_run,
    limit: input.limit ?? null,
    mode: inline ? "inline" : "fanout",
    due,
    total,
    started_at: now,
    finished_at: null,
    heartbeat_at: now,
    shards_total: inline ? 1 : null,
    created_by: ctx.actor,
    correlation_id: ctx.correlationId,
    error: null,
  };
  const summary = { job_id: jobId, dry_run: input.dry_run, due };

  if (input.dry_run) {
    await rt.jobs.create({ ...job, state: "done", finished_at: now, shards_total: 0 });
    await auditJob(rt, ctx, jobId, "success", {
      dry_run: true,
      due_users: due.users,
      due_globals: due.globals,
    });
    return { ...summary, rotated: 0, failed: 0, queued: 0, mode: "dry_run" };
  }
  await rt.jobs.create(job);
  if (!inline) {
    await rt.tasks.enqueue(
      { type: "plan", job_id: jobId, kinds, kind_index: 0, cursor: null, next_shard: 0, remaining: total },
      `${jobId}-plan-0`,
    );
    await auditJob(rt, ctx, jobId, "success", { mode: "fanout", total });
    logs.jobProgress({ job_id: jobId, event: "queued", total, correlation_id: ctx.correlationId });
    return { ...summary, rotated: 0, failed: 0, queued: total, mode: "fanout" };
  }
  const counts = await runInline(rt, ctx, job, kinds);
  await auditJob(rt, ctx, jobId, "success", {
    mode: "inline",
    rotated: counts.rotated,
    failed: counts.failed,
  });
  return { ...summary, rotated: counts.rotated, failed: counts.failed, queued: 0, mode: "inline" };
}

async function auditJob(
  rt: ServiceRuntime,
  ctx: CallContext,
  jobId: string,
  result: "success" | "error",
  details: Record<string, string | number | boolean | null>,
): Promise<void> {
  await rt.backend.appendAudit({
    ...auditContext(ctx, "rotate_due"),
    target: { kind: "job", id: jobId },
    result,
    details,
  });
}

/** Streams due salts page by page (bounded memory) and rotates them in this process. */
async function runInline(
  rt: ServiceRuntime,
  ctx: CallContext,
  job: JobRecord,
  kinds: SaltKind[],
): Promise<Counts> {
  const counts: Counts = { rotated: 0, failed: 0, skipped: 0 };
  const progress = (state: ShardProgress["state"]): ShardProgress => ({
    shard: 0,
    state,
    size: job.total,
    ...counts,
    attempts: 1,
    updated_at: rt.clock(),
  });
  // Progress is checkpointed after each page; the page's chunks run with bounded parallelism.
  const pageSize = rt.config.pageSize;
  let remaining = job.total;
  try {
    for (const kind of kinds) {
      if (remaining <= 0) break;
      const list = (cursor: string | null, limit: number) =>
        rt.backend.listDueForRotation(kind, { limit, cursor });
      let page: Page<ListedSalt> | null = await list(null, Math.min(pageSize, remaining));
      while (page && page.items.length > 0) {
        const items: ListedSalt[] = page.items;
        const left: number = remaining - items.length;
        // Read the next page while this one rotates: rotated salts sit before the cursor, so it stays valid.
        const next: Promise<Page<ListedSalt>> | null =
          page.nextCursor && left > 0 ? list(page.nextCursor, Math.min(pageSize, left)) : null;
        next?.catch(() => undefined);
        const got = await rotateUnits(
          rt,
          ctx,
          job.job_id,
          items.map((listed) => ({
            item: { kind, id: listed.record.id, version: listed.record.version },
            listed,
          })),
        );
        counts.rotated += got.rotated;
        counts.failed += got.failed;
        counts.skipped += got.skipped;
        remaining = left;
        await Promise.all([
          rt.jobs.putShard(job.job_id, progress("running")),
          rt.jobs.update(job.job_id, { heartbeat_at: rt.clock() }),
        ]);
        page = next ? await next : null;
      }
    }
    await rt.jobs.putShard(job.job_id, progress("done"));
    await rt.jobs.update(job.job_id, { state: "done", finished_at: rt.clock(), heartbeat_at: rt.clock() });
    return counts;
  } catch (e) {
    await recordFailure(rt, job.job_id, progress("failed"), e);
    throw e;
  }
}

/** Best effort: if storage is down this fails too, and the stale heartbeat tells the story instead. */
async function recordFailure(
  rt: ServiceRuntime,
  jobId: string,
  progress: ShardProgress,
  e: unknown,
): Promise<void> {
  const code = e instanceof SaltServiceError ? e.code : "internal";
  try {
    await rt.jobs.putShard(jobId, progress);
    await rt.jobs.update(jobId, { state: "failed", finished_at: rt.clock(), error: code });
  } catch {
    logs.jobProgress({ job_id: jobId, event: "failure not recorded", error: code });
  }
}

/** One step of planning a fan-out job: lists up to PLAN_PAGES_PER_STEP pages and hands them to the queue as shards. */
export async function runPlanStep(
  rt: ServiceRuntime,
  ctx: CallContext,
  task: Extract<RotationTask, { type: "plan" }>,
) {
  const job = await rt.jobs.get(task.job_id);
  if (!job || job.state !== "running" || job.shards_total !== null) return;
  let { kind_index: kindIndex, cursor, next_shard: shard, remaining } = task;
  for (let step = 0; step < PLAN_PAGES_PER_STEP && remaining > 0 && kindIndex < task.kinds.length; step++) {
    const kind = task.kinds[kindIndex]!;
    const page = await rt.backend.listDue(kind, { limit: Math.min(rt.config.pageSize, remaining), cursor });
    const items = page.items.map((r) => ({ kind, id: r.id, version: r.version }));
    const shards: { shard: number; items: ShardItem[] }[] = [];
    for (let i = 0; i < items.length; i += rt.config.shardSize) {
      shards.push({ shard: shard++, items: items.slice(i, i + rt.config.shardSize) });
    }
    await Promise.all(
      shards.map((s) =>
        rt.tasks.enqueue({ type: "shard", job_id: job.job_id, ...s }, `${job.job_id}-shard-${s.shard}`),
      ),
    );
    remaining -= items.length;
    if (page.nextCursor && page.items.length > 0) cursor = page.nextCursor;
    else {
      kindIndex++;
      cursor = null;
    }
  }
  if (remaining > 0 && kindIndex < task.kinds.length) {
    await rt.tasks.enqueue(
      { ...task, kind_index: kindIndex, cursor, next_shard: shard, remaining },
      `${job.job_id}-plan-${shard}`,
    );
    await rt.jobs.update(job.job_id, { heartbeat_at: rt.clock() });
    return;
  }
  await rt.jobs.update(job.job_id, { shards_total: shard, heartbeat_at: rt.clock() });
  await rt.jobs.finishIfComplete(job.job_id, rt.clock());
  logs.jobProgress({
    job_id: job.job_id,
    event: "planned",
    shards: shard,
    correlation_id: ctx.correlationId,
  });
}

/**
 * One shard: a unit of retry. A redelivered or retried shard re-runs its items;
 * the version guard and deterministic rotation ids make that a no-op for what
 * is already done, so nothing is rotated twice and nothing is counted twice.
 */
export async function runShard(
  rt: ServiceRuntime,
  ctx: CallContext,
  task: Extract<RotationTask, { type: "shard" }>,
  finalAttempt: boolean,
): Promise<void> {
  const job = await rt.jobs.get(task.job_id);
  if (!job) return;
  const previous = await rt.jobs.getShard(task.job_id, task.shard);
  if (previous?.state === "done" || previous?.state === "failed") return;
  const base = { shard: task.shard, size: task.items.length, attempts: (previous?.attempts ?? 0) + 1 };
  await rt.jobs.putShard(task.job_id, {
    ...base,
    state: "running",
    rotated: 0,
    failed: 0,
    skipped: 0,
    updated_at: rt.clock(),
  });
  try {
    const counts = await rotateItems(rt, ctx, task.job_id, task.items);
    await rt.jobs.putShard(task.job_id, { ...base, state: "done", ...counts, updated_at: rt.clock() });
    // One plain write per shard (not per salt) keeps the job's liveness visible without a hot spot.
    await rt.jobs.update(task.job_id, { heartbeat_at: rt.clock() });
  } catch (e) {
    if (finalAttempt) {
      await rt.jobs.putShard(task.job_id, {
        ...base,
        state: "failed",
        rotated: 0,
        failed: task.items.length,
        skipped: 0,
        updated_at: rt.clock(),
      });
      await rt.jobs.finishIfComplete(task.job_id, rt.clock());
    }
    throw e;
  }
  await rt.jobs.finishIfComplete(task.job_id, rt.clock());
}

export async function runTask(
  rt: ServiceRuntime,
  ctx: CallContext,
  task: RotationTask,
  finalAttempt: boolean,
) {
  if (task.type === "plan") await runPlanStep(rt, ctx, task);
  else await runShard(rt, ctx, task, finalAttempt);
}

/** Job progress, summed from its shards; a job whose workers went silent is reported failed. */
export async function jobStatus(rt: ServiceRuntime, jobId: string): Promise<JobStatusResponse> {
  const job = await rt.jobs.get(jobId);
  if (!job) throw notFound("The job");
  const totals = await rt.jobs.totals(jobId);
  let state = job.state;
  let error = job.error;
  const silentFor = rt.clock().getTime() - job.heartbeat_at.getTime();
  if (state === "running" && silentFor > rt.config.jobStaleSeconds * 1000) {
    const latest = await rt.jobs.finishIfComplete(jobId, rt.clock());
    if (latest?.state === "running") {
      state = "failed";
      error ??= "stalled";
    } else if (latest) state = latest.state;
  }
  return {
    job_id: job.job_id,
    state,
    total: job.total,
    rotated: totals.rotated,
    failed: totals.failed,
    skipped: totals.skipped,
    started_at: job.started_at.toISOString(),
    ...(job.finished_at ? { finished_at: job.finished_at.toISOString() } : {}),
    mode: job.mode,
    dry_run: job.dry_run,
    due: job.due,
    shards: { total: job.shards_total, done: totals.done, failed: totals.failedShards },
    ...(error ? { error } : {}),
  };
}
