import { z } from "zod";
import { invalidArgument } from "../domain/errors";
import { saltIdProblem } from "../domain/ids";
import type { JobTask } from "../ports/taskQueue";

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
