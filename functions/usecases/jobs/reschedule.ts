import { mapStream, pagedStream } from "../../domain/paging";
import { nextRotation } from "../../domain/policy";
import type { SaltRecord } from "../../domain/salt";
import type { CallContext } from "../deps";
import { startJob } from "./engine";
import type { JobDeps, JobSpec } from "./spec";

/** Writes one repair costs (the salt's due date; no audit entry: the reload that caused it is audited). */
const WRITES_PER_RESCHEDULE = 1;

/**
 * Reschedule: after a reload changed the intervals, every salt's stored due date
 * is brought in step with them (and with its jitter) at once, rather than at the
 * next sweep. A salt already in step, or rotated meanwhile, is skipped.
 */
export const rescheduleJob: JobSpec<SaltRecord> = {
  type: "reschedule",
  operation: "reschedule",
  chunkSize: 100,
  writesPerItem: WRITES_PER_RESCHEDULE,
  // The intervals the reload put in force travel with the job: a worker that has not refreshed yet still uses them.
  prepare: async (deps) => {
    const p = deps.policy.current();
    return { user_days: p.userDays, global_days: p.globalDays };
  },
  count: (deps, kind) => deps.salts.count(kind),
  listItems: async (deps, kind, page) => {
    const listed = await deps.salts.list(kind, page);
    return {
      items: listed.items.map((r) => ({ kind, id: r.id, version: r.version })),
      nextCursor: listed.nextCursor,
    };
  },
  units: (deps, kind, limit) =>
    mapStream(
      pagedStream((page) => deps.salts.list(kind, page), limit, deps.config.pageSize),
      (r) => ({
        item: { kind, id: r.id, version: r.version },
        listed: r,
      }),
    ),
  apply: async (deps, _ctx, job, units) => {
    const policy = {
      ...deps.policy.current(),
      userDays: job.params.user_days!,
      globalDays: job.params.global_days!,
    };
    return Promise.all(
      units.map(async ({ item, listed }) => {
        const record = listed ?? (await deps.salts.record(item.kind, item.id));
        if (!record) return "skipped" as const;
        const next = nextRotation(policy, item.kind, record.last_rotated, record);
        return (await deps.salts.repairNextRotation(item.kind, item.id, record.version, next))
          ? "done"
          : "skipped";
      }),
    );
  },
};

/** Starts a reschedule over every salt (inline when few, fanned out when many). */
export function startReschedule(deps: JobDeps, ctx: CallContext) {
  return startJob(
    deps,
    { ...ctx, request: undefined },
    rescheduleJob,
    { scope: "all", dryRun: false },
    (s) => ({
      job_id: s.job.job_id,
      total: s.job.total,
      rescheduled: s.counts.done,
      queued: s.queued,
      mode: s.mode,
    }),
  );
}
