import { SaltServiceError } from "../../domain/errors";
import type { SaltKind } from "../../domain/ids";
import {
  kindsOf,
  newJobId,
  zeroCounts,
  type JobCounts,
  type JobMode,
  type JobRecord,
  type JobScope,
  type ShardProgress,
} from "../../domain/jobs";
import { rampOf } from "../../config/config";
import { logs } from "../../observability/logs";
import { auditContext, type CallContext } from "../deps";
import { requestIdReused } from "../idempotency";
import { runChunks, type ChunkSource } from "./chunks";
import { Pacer } from "./pacer";
import type { JobDeps, JobSpec, JobUnit } from "./spec";

export interface JobRequest {
  scope: JobScope;
  limit?: number | undefined;
  dryRun: boolean;
}

export interface StartedJob {
  job: JobRecord;
  mode: JobMode | "dry_run";
  counts: JobCounts;
  queued: number;
}

type Details = Record<string, string | number | boolean | null>;

export async function auditJob(
  deps: Pick<JobDeps, "audit">,
  ctx: CallContext,
  spec: Pick<JobSpec, "operation">,
  jobId: string,
  result: "success" | "error",
  details: Details,
): Promise<void> {
  await deps.audit.appendAudit({
    ...auditContext(ctx, spec.operation),
    target: { kind: "job", id: jobId },
    result,
    details: { ...auditContext(ctx, spec.operation).details, ...details },
  });
}

/**
 * Plans a job by counting (a dry run stops there), then runs it in this call
 * when small, or hands it to the task queue as chained planning steps that
 * emit shards when large. Every start is audited. With a request_id, the job
 * and the id's first answer are created together; a retry gets that answer
 * (the final one once an inline run has finished), and nothing starts twice.
 */
export async function startJob<L, R>(
  deps: JobDeps,
  ctx: CallContext,
  spec: JobSpec<L>,
  request: JobRequest,
  respond: (started: StartedJob) => R,
): Promise<R> {
  const kinds = kindsOf(request.scope);
  const params = (await spec.prepare?.(deps)) ?? {};
  const [users, globals] = await Promise.all(
    (["user", "global"] as SaltKind[]).map((k) => (kinds.includes(k) ? spec.count(deps, k, params) : 0)),
  );
  const due = { users: users!, globals: globals! };
  const total = Math.min(request.limit ?? Number.POSITIVE_INFINITY, due.users + due.globals);
  const now = deps.clock();
  const inline = total <= deps.config.inlineLimit;
  const job: JobRecord = {
    job_id: newJobId(now),
    type: spec.type,
    state: request.dryRun ? "done" : "running",
    kind: request.scope,
    dry_run: request.dryRun,
    limit: request.limit ?? null,
    mode: inline ? "inline" : "fanout",
    due,
    total,
    started_at: now,
    finished_at: request.dryRun ? now : null,
    heartbeat_at: now,
    shards_total: request.dryRun ? 0 : inline ? 1 : null,
    created_by: ctx.actor,
    correlation_id: ctx.correlationId,
    error: null,
    params,
  };
  const mode = request.dryRun ? "dry_run" : inline ? "inline" : "fanout";
  const first: StartedJob = { job, mode, counts: zeroCounts(), queued: mode === "fanout" ? total : 0 };
  const claim = ctx.request && { ...ctx.request, answer: respond(first) };
  const prior = await deps.jobs.create(job, claim);
  if (prior) {
    if (prior.fingerprint !== ctx.request!.fingerprint) throw requestIdReused();
    return prior.answer as R;
  }
  if (request.dryRun) {
    await auditJob(deps, ctx, spec, job.job_id, "success", {
      dry_run: true,
      due_users: due.users,
      due_globals: due.globals,
    });
    return respond(first);
  }
  // A call that fails after its claim answered with an error: the claim goes, so a retry runs again.
  const release = async (e: unknown): Promise<never> => {
    if (ctx.request) await deps.requests.release(ctx.request.key).catch(() => undefined);
    throw e;
  };
  if (!inline) {
    await deps.tasks
      .enqueue(
        { type: "plan", job_id: job.job_id, source_index: 0, cursor: null, next_shard: 0, remaining: total },
        `${job.job_id}-plan-0`,
      )
      .catch(async (e: unknown) => {
        await deps.jobs
          .update(job.job_id, { state: "failed", finished_at: deps.clock(), error: "unavailable" })
          .catch(() => undefined);
        return release(e);
      });
    await auditJob(deps, ctx, spec, job.job_id, "success", { mode: "fanout", total });
    logs.jobProgress({ job_id: job.job_id, event: "queued", total, correlation_id: ctx.correlationId });
    return respond(first);
  }
  const counts = await runInline(deps, ctx, spec, job).catch(release);
  await auditJob(deps, ctx, spec, job.job_id, "success", {
    mode: "inline",
    done: counts.done,
    failed: counts.failed,
  });
  const answer = respond({ ...first, counts });
  if (ctx.request) await deps.requests.complete(ctx.request.key, answer);
  return answer;
}

/**
 * Streams the job's items (bounded memory, see listedChunks) through one pool of chunk workers and
 * processes them in this process.
 */
async function runInline<L>(
  deps: JobDeps,
  ctx: CallContext,
  spec: JobSpec<L>,
  job: JobRecord,
): Promise<JobCounts> {
  const counts = zeroCounts();
  const progress = (state: ShardProgress["state"]): ShardProgress => ({
    shard: 0,
    state,
    size: job.total,
    ...counts,
    attempts: 1,
    updated_at: deps.clock(),
  });
  const pacer = new Pacer(rampOf(deps.config), job.started_at.getTime());
  const chunks = listedChunks(deps, spec, job, progress);
  try {
    await runChunks(deps, ctx, spec, job, chunks.next, pacer, counts).finally(chunks.close);
    await deps.jobs.putShard(job.job_id, progress("done"));
    await deps.jobs.update(job.job_id, {
      state: "done",
      finished_at: deps.clock(),
      heartbeat_at: deps.clock(),
    });
    return counts;
  } catch (e) {
    await recordFailure(deps, job.job_id, progress("failed"), e);
    throw e;
  }
}

/**
 * The job's chunks, read from each kind's unit stream as workers ask for them: what is held is the
 * chunks in flight and what the stream buffers, whatever the job's size. Every ROTATION_PAGE_SIZE
 * units the progress so far is recorded and the heartbeat renewed. `close` ends an open stream.
 */
function listedChunks<L>(
  deps: JobDeps,
  spec: JobSpec<L>,
  job: JobRecord,
  progress: (state: ShardProgress["state"]) => ShardProgress,
): { next: ChunkSource<L>; close: () => Promise<void> } {
  const kinds = kindsOf(job.kind);
  let remaining = job.total;
  let k = 0;
  let units: AsyncGenerator<JobUnit<L>> | null = null;
  let sinceCheckpoint = 0;
  const close = async () => {
    const open = units;
    units = null;
    await open?.return(undefined);
  };
  const next = async (): Promise<JobUnit<L>[] | null> => {
    const chunk: JobUnit<L>[] = [];
    while (chunk.length < spec.chunkSize && remaining > 0 && k < kinds.length) {
      units ??= spec.units(deps, kinds[k]!, remaining, job.params);
      // A listing that fails throws here, and runChunks asks no more (no further kind is listed).
      const read = await units.next();
      if (read.done) {
        units = null;
        k++;
        continue;
      }
      chunk.push(read.value);
      remaining--;
    }
    if (remaining <= 0) await close();
    if (chunk.length === 0) return null;
    sinceCheckpoint += chunk.length;
    if (sinceCheckpoint >= deps.config.pageSize) {
      sinceCheckpoint = 0;
      await Promise.all([
        deps.jobs.putShard(job.job_id, progress("running")),
        deps.jobs.update(job.job_id, { heartbeat_at: deps.clock() }),
      ]);
    }
    return chunk;
  };
  return { next, close };
}

/** Best effort: if storage is down this fails too, and the stale heartbeat tells the story instead. */
async function recordFailure(
  deps: JobDeps,
  jobId: string,
  progress: ShardProgress,
  e: unknown,
): Promise<void> {
  const code = e instanceof SaltServiceError ? e.code : "internal";
  try {
    await deps.jobs.putShard(jobId, progress);
    await deps.jobs.update(jobId, { state: "failed", finished_at: deps.clock(), error: code });
  } catch {
    logs.jobProgress({ job_id: jobId, event: "failure not recorded", error: code });
  }
}
