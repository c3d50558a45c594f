import type { Request as TaskRequest } from "firebase-functions/tasks";
import { z } from "zod";
import { invalidArgument, isSaltServiceError } from "../domain/errors";
import { saltIdProblem } from "../domain/ids";
import { logs } from "../observability/logs";
import type { JobTask } from "../ports/taskQueue";
import type { Services } from "../usecases/deps";
import { runTask } from "../usecases/jobs/fanout";
import { JOB_SPECS } from "../usecases/jobs/kinds";

/** Task payloads are parsed like requests: the queue is a boundary too. */
const item = z
  .strictObject({
    kind: z.enum(["user", "global"]),
    id: z.string(),
    version: z.number().int().min(1),
  })
  .superRefine((v, ctx) => {
    const problem = saltIdProblem(v.kind, v.id);
    if (problem) ctx.addIssue({ code: "custom", path: ["id"], message: problem });
  });

const jobId = z.string().regex(/^job_[0-9a-z]{1,12}_[0-9a-f]{12}$/);

export const jobTaskSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("plan"),
    job_id: jobId,
    source_index: z.number().int().min(0).max(16),
    cursor: z.string().min(1).max(2000).nullable(),
    next_shard: z.number().int().min(0),
    remaining: z.number().int().min(0),
  }),
  z.strictObject({
    type: z.literal("shard"),
    job_id: jobId,
    shard: z.number().int().min(0),
    items: z.array(item).max(5000),
  }),
]);

/** A task as the queue delivered it; a malformed one is invalid-argument (and not retried by the trigger). */
export function parseJobTask(data: unknown): JobTask {
  const parsed = jobTaskSchema.safeParse(data);
  if (!parsed.success) {
    throw invalidArgument(parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })));
  }
  return parsed.data;
}

/**
 * One delivery of the salts-rotateShard queue: a plan step or a shard of a job. The queue
 * retries a failure; `maxAttempts` tells the last try (which records what is left as failed).
 */
export async function runJobTask(
  rt: Services,
  request: TaskRequest<unknown>,
  maxAttempts: number,
): Promise<void> {
  let task;
  try {
    task = parseJobTask(request.data);
  } catch (e) {
    // A malformed task will never succeed: drop it (answering success) rather than retry it.
    logs.malformedTaskDropped(isSaltServiceError(e) ? e.details : null);
    return;
  }
  await rt.policy.refresh();
  const ctx = {
    correlationId: `task-${request.id ?? "local"}`,
    actor: { uid: "job-task", via: "task" as const },
  };
  try {
    await runTask(rt, ctx, JOB_SPECS, task, (request.retryCount ?? 0) >= maxAttempts - 1);
  } finally {
    // A job's events go to Pub/Sub in the drain's batches, not from the shard.
    await rt.events.flush({ toDrain: true });
  }
}
