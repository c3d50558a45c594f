import { jobItemId, type JobItem } from "../../domain/jobs";
import type { SaltKind } from "../../domain/ids";
import { mapStream, pagedStream } from "../../domain/paging";
import type { ScopeRecord } from "../../domain/scope";
import type { RotateScopeOutcome } from "../../ports/scopeStore";
import { auditContext, type CallContext } from "../deps";
import { startJob } from "./engine";
import type { JobDeps, JobSpec, UnitOutcome } from "./spec";

/**
 * The engine partitions a job's items by salt kind; scopes ride in the `global` partition (a scope id
 * is a valid event-type id, so they pass the task payload's checks) and the `user` one is empty.
 */
const PARTITION: SaltKind = "global";

/** Writes one scope rotation costs: the scope document, its audit entry and the chain head. */
const WRITES_PER_SCOPE_ROTATION = 3;

const itemOf = (r: ScopeRecord): JobItem => ({ kind: PARTITION, id: r.scope_id, version: r.version });

/**
 * Scope rotation: every scope whose `rotation_days` have passed, rotated only if it is still due and
 * still at the version listed, under a rotation id derived from (job, scope, version), so a retried
 * chunk recognises its own earlier work, as the salt rotation job does.
 */
export const scopeRotationJob: JobSpec<ScopeRecord> = {
  type: "scope_rotation",
  operation: "rotate_scopes",
  chunkSize: 20,
  writesPerItem: WRITES_PER_SCOPE_ROTATION,
  count: async (deps, kind) => (kind === PARTITION ? deps.scopes.countDueScopes() : 0),
  listItems: async (deps, kind, page) => {
    if (kind !== PARTITION) return { items: [], nextCursor: null };
    const listed = await deps.scopes.listDueScopes(page);
    return { items: listed.items.map(itemOf), nextCursor: listed.nextCursor };
  },
  units: (deps, kind, limit) =>
    mapStream(
      pagedStream(
        (page) =>
          kind === PARTITION
            ? deps.scopes.listDueScopes(page)
            : Promise.resolve({ items: [], nextCursor: null }),
        limit,
        deps.config.pageSize,
      ),
      (r) => ({ item: itemOf(r), listed: r }),
    ),
  apply: (deps, ctx, job, units) =>
    Promise.all(
      units.map(async ({ item }): Promise<UnitOutcome> => {
        const rotationId = jobItemId(job.job_id, item);
        const out: RotateScopeOutcome = await deps.scopes.rotateScope(item.id, {
          rotationId,
          ifVersion: item.version,
          onlyIfDue: true,
          audit: auditContext(ctx, "rotate_scope", `scope rotation job ${job.job_id}`),
        });
        // A rotation this job made on an earlier attempt shows as "version changed" with our rotation id.
        const done =
          out.status === "rotated" ||
          (out.status === "skipped" && out.record?.last_rotation_id === rotationId);
        if (done) deps.scopeCache.invalidate(item.id);
        return done ? "done" : "skipped";
      }),
    ),
};

export interface ScopeRotationResponse {
  job_id: string;
  due: number;
  rotated: number;
  failed: number;
  queued: number;
  mode: "inline" | "fanout" | "dry_run";
}

/** Starts a job over every due scope (the sweep runs it; inline when few, fanned out when many). */
export function startScopeRotation(
  deps: JobDeps,
  ctx: CallContext,
  input: { dry_run?: boolean } = {},
): Promise<ScopeRotationResponse> {
  return startJob(
    deps,
    { ...ctx, request: undefined },
    scopeRotationJob,
    { scope: PARTITION, dryRun: input.dry_run ?? false },
    (s) => ({
      job_id: s.job.job_id,
      due: s.job.due.globals,
      rotated: s.counts.done,
      failed: s.counts.failed,
      queued: s.queued,
      mode: s.mode,
    }),
  );
}
