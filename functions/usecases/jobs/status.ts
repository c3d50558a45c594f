import { notFound } from "../../domain/errors";
import { isStale, JOB_ID_PATTERN, type JobRecord, type JobState, type JobType } from "../../domain/jobs";
import type { Services } from "../deps";

export interface JobStatusResponse {
  job_id: string;
  type: JobType;
  state: JobState;
  total: number;
  /** Items acted on, whatever the job does (rotated or rewrapped). */
  processed: number;
  /** Rotation jobs: salts rotated (the contract's field). Zero for other job types. */
  rotated: number;
  /** Rewrap jobs: salts re-encrypted under the current key. */
  rewrapped?: number;
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

type StatusDeps = Pick<Services, "jobs" | "clock" | "config">;

/** Job progress, summed from its shards; a job whose workers went silent is reported failed. */
export async function jobStatus(deps: StatusDeps, jobId: string): Promise<JobStatusResponse> {
  // Ids this service never issues (reserved `__x__` forms, `__proto__`, ...) are simply unknown.
  const job = JOB_ID_PATTERN.test(jobId) ? await deps.jobs.get(jobId) : null;
  if (!job) throw notFound("The job");
  return describeJob(deps, job);
}

async function describeJob(deps: StatusDeps, job: JobRecord): Promise<JobStatusResponse> {
  const totals = await deps.jobs.totals(job.job_id);
  let state = job.state;
  let error = job.error;
  if (isStale(job, deps.clock(), deps.config.jobStaleSeconds)) {
    const latest = await deps.jobs.finishIfComplete(job.job_id, deps.clock());
    if (latest?.state === "running") {
      state = "failed";
      error ??= "stalled";
    } else if (latest) state = latest.state;
  }
  return {
    job_id: job.job_id,
    type: job.type,
    state,
    total: job.total,
    processed: totals.done,
    rotated: job.type === "rotation" || job.type === "scope_rotation" ? totals.done : 0,
    ...(job.type === "rewrap" ? { rewrapped: totals.done } : {}),

    failed: totals.failed,
    skipped: totals.skipped,
    started_at: job.started_at.toISOString(),
    ...(job.finished_at ? { finished_at: job.finished_at.toISOString() } : {}),
    mode: job.mode,
    dry_run: job.dry_run,
    due: job.due,
    shards: { total: job.shards_total, done: totals.doneShards, failed: totals.failedShards },
    ...(error ? { error } : {}),
  };
}

/** Recent jobs, newest first, each with its progress. */
export async function listJobs(
  deps: StatusDeps,
  input: { limit: number; cursor?: string | undefined },
): Promise<{ jobs: JobStatusResponse[]; next_cursor: string | null }> {
  const page = await deps.jobs.list({ limit: input.limit, cursor: input.cursor });
  return {
    jobs: await Promise.all(page.items.map((job) => describeJob(deps, job))),
    next_cursor: page.nextCursor,
  };
}
