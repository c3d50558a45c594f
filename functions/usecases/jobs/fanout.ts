import { chunksOf, kindsOf, renewsHeartbeat, type JobRecord, type ShardProgress } from "../../domain/jobs";
import { heartbeatStride } from "../../domain/ramp";
import { rampOf } from "../../config/config";
import { logs } from "../../observability/logs";
import type { JobTask } from "../../ports/taskQueue";
import type { CallContext } from "../deps";
import { runUnits } from "./chunks";
import { Pacer } from "./pacer";
import type { JobDeps, JobSpec } from "./spec";

/** Shard `n`'s place on the job's ramp: the writes of every shard before it come first. */
function shardPacer(deps: JobDeps, spec: JobSpec, job: JobRecord, n: number): Pacer {
  return new Pacer(
    rampOf(deps.config),
    job.started_at.getTime(),
    n * deps.config.shardSize * spec.writesPerItem,
  );
}

/** Pages one planning task lists and hands to the queue before passing the rest on. */
const PLAN_PAGES_PER_STEP = 4;

type PlanTask = Extract<JobTask, { type: "plan" }>;
type ShardTask = Extract<JobTask, { type: "shard" }>;

/** One step of planning a fan-out job: lists up to PLAN_PAGES_PER_STEP pages and enqueues them as shards. */
export async function runPlanStep(
  deps: JobDeps,
  ctx: CallContext,
  spec: JobSpec,
  job: JobRecord,
  task: PlanTask,
) {
  if (job.state !== "running" || job.shards_total !== null) return;
  const kinds = kindsOf(job.kind);
  let { source_index: source, cursor, next_shard: shard, remaining } = task;
  for (let step = 0; step < PLAN_PAGES_PER_STEP && remaining > 0 && source < kinds.length; step++) {
    const page = await spec.listItems(
      deps,
      kinds[source]!,
      { limit: Math.min(deps.config.pageSize, remaining), cursor },
      job.params,
    );
    const shards = chunksOf(page.items, deps.config.shardSize).map((items) => ({ shard: shard++, items }));
    // Each shard is dispatched when the ramp, counted from the job's start, has room for the shards before it.
    await Promise.all(
      shards.map((s) =>
        deps.tasks.enqueue(
          { type: "shard", job_id: job.job_id, ...s },
          `${job.job_id}-shard-${s.shard}`,
          shardPacer(deps, spec, job, s.shard).delaySeconds(),
        ),
      ),
    );
    remaining -= page.items.length;
    if (page.nextCursor && page.items.length > 0) cursor = page.nextCursor;
    else {
      source++;
      cursor = null;
    }
  }
  if (remaining > 0 && source < kinds.length) {
    await deps.tasks.enqueue(
      { ...task, source_index: source, cursor, next_shard: shard, remaining },
      `${job.job_id}-plan-${shard}`,
    );
    await deps.jobs.update(job.job_id, { heartbeat_at: deps.clock() });
    return;
  }
  await deps.jobs.update(job.job_id, { shards_total: shard, heartbeat_at: deps.clock() });
  await deps.jobs.finishIfComplete(job.job_id, deps.clock());
  logs.jobProgress({
    job_id: job.job_id,
    event: "planned",
    shards: shard,
    correlation_id: ctx.correlationId,
  });
}

/**
 * One shard: a unit of retry. A redelivered or retried shard re-runs its items;
 * the spec's guards make that a no-op for what is already done, so nothing is
 * done twice and nothing is counted twice.
 */
export async function runShard(
  deps: JobDeps,
  ctx: CallContext,
  spec: JobSpec,
  job: JobRecord,
  task: ShardTask,
  finalAttempt: boolean,
): Promise<void> {
  const previous = await deps.jobs.getShard(job.job_id, task.shard);
  if (previous?.state === "done" || previous?.state === "failed") return;
  const progress = (p: Pick<ShardProgress, "state" | "done" | "failed" | "skipped">): ShardProgress => ({
    shard: task.shard,
    size: task.items.length,
    attempts: (previous?.attempts ?? 0) + 1,
    updated_at: deps.clock(),
    ...p,
  });
  await deps.jobs.putShard(job.job_id, progress({ state: "running", done: 0, failed: 0, skipped: 0 }));
  try {
    const items = task.items.map((item) => ({ item }));
    const counts = await runUnits(deps, ctx, spec, job, items, shardPacer(deps, spec, job, task.shard));
    await deps.jobs.putShard(job.job_id, progress({ state: "done", ...counts }));
    // The job's liveness, renewed by one shard in a stride so the job document stays under its write rate.
    const stride = heartbeatStride(rampOf(deps.config), deps.config.shardSize, spec.writesPerItem);
    if (renewsHeartbeat(task.shard, stride, job, deps.clock(), deps.config.jobStaleSeconds))
      await deps.jobs.update(job.job_id, { heartbeat_at: deps.clock() });
  } catch (e) {
    if (finalAttempt) {
      await deps.jobs.putShard(
        job.job_id,
        progress({ state: "failed", done: 0, failed: task.items.length, skipped: 0 }),
      );
      await deps.jobs.finishIfComplete(job.job_id, deps.clock());
    }
    throw e;
  }
  await deps.jobs.finishIfComplete(job.job_id, deps.clock());
}

/** Runs one queued task of any job type; a task of an unknown or vanished job is dropped. */
export async function runTask(
  deps: JobDeps,
  ctx: CallContext,
  specs: Readonly<Record<JobRecord["type"], JobSpec>>,
  task: JobTask,
  finalAttempt: boolean,
): Promise<void> {
  const job = await deps.jobs.get(task.job_id);
  if (!job) return;
  const spec = specs[job.type];
  if (task.type === "plan") await runPlanStep(deps, ctx, spec, job, task);
  else await runShard(deps, ctx, spec, job, task, finalAttempt);
}
