import { jobItemId, type JobItem, type JobScope } from "../../domain/jobs";
import type { BatchRotateItem, ListedSalt, RotateOutcome } from "../../ports/saltStore";
import { MAX_BATCH_ROTATIONS } from "../../ports/saltStore";
import { mapStream } from "../../domain/paging";
import { auditContext, type CallContext } from "../deps";
import { rotateOperation } from "../rotateSalt";
import { WRITES_PER_ROTATION } from "../../domain/ramp";
import { startJob } from "./engine";
import type { JobDeps, JobSpec, UnitOutcome } from "./spec";

/**
 * Batch rotation: every due salt, oldest first; each rotated only if it is
 * still due and still at the version the job saw, under a rotation id derived
 * from (job, salt, version), so a retry recognises its own earlier work.
 */
export const rotationJob: JobSpec<ListedSalt> = {
  type: "rotation",
  operation: "rotate_due",
  chunkSize: MAX_BATCH_ROTATIONS,
  writesPerItem: WRITES_PER_ROTATION,
  count: (deps, kind) => deps.salts.countDue(kind),
  listItems: async (deps, kind, page) => {
    const listed = await deps.salts.listDue(kind, page);
    return {
      items: listed.items.map((r) => ({ kind, id: r.id, version: r.version })),
      nextCursor: listed.nextCursor,
    };
  },
  units: (deps, kind, limit) =>
    mapStream(deps.salts.dueForRotation(kind, limit), (listed) => ({
      item: { kind, id: listed.record.id, version: listed.record.version },
      listed,
    })),
  apply: async (deps, ctx, job, units) => {
    const requests = units.map((u) => requestOf(ctx, job.job_id, u.item));
    const outcomes = units.every((u) => u.listed)
      ? await deps.salts.rotateListed(
          units.map((u, i) => ({ listed: u.listed!, request: requests[i]!.request })),
        )
      : await deps.salts.rotateMany(requests);
    return outcomes.map((out, i) => tally(deps, requests[i]!, out));
  },
};

function requestOf(ctx: CallContext, jobId: string, item: JobItem): BatchRotateItem {
  return {
    kind: item.kind,
    id: item.id,
    request: {
      rotationId: jobItemId(jobId, item),
      ifVersion: item.version,
      onlyIfDue: true,
      audit: auditContext(ctx, rotateOperation(item.kind), `rotate_due job ${jobId}`),
    },
  };
}

function tally(deps: JobDeps, item: BatchRotateItem, out: RotateOutcome): UnitOutcome {
  // A rotation this job made on an earlier attempt shows as "version changed" with our rotation id.
  if (
    out.status === "rotated" ||
    (out.status === "skipped" && out.record?.last_rotation_id === item.request.rotationId)
  ) {
    deps.cache.invalidate(item.kind, item.id);
    return "done";
  }
  return "skipped";
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

/** salts-rotateDue: plans a rotation job, then rotates inline (small) or fans out (large). */
export function startRotateDue(
  deps: JobDeps,
  ctx: CallContext,
  input: { kind: JobScope; limit?: number | undefined; dry_run: boolean },
): Promise<RotateDueResponse> {
  return startJob(
    deps,
    ctx,
    rotationJob,
    { scope: input.kind, limit: input.limit, dryRun: input.dry_run },
    (started) => ({
      job_id: started.job.job_id,
      dry_run: input.dry_run,
      due: started.job.due,
      rotated: started.counts.done,
      failed: started.counts.failed,
      queued: started.queued,
      mode: started.mode,
    }),
  );
}
