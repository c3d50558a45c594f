import { mapStream, pagedStream } from "../../domain/paging";
import { unavailable } from "../../domain/errors";
import { jobItemId, type JobItem } from "../../domain/jobs";
import { MAX_REWRAP_BATCH } from "../../ports/saltStore";
import { auditContext, type CallContext } from "../deps";
import { WRITES_PER_REWRAP } from "../../domain/ramp";
import { startJob } from "./engine";
import type { JobDeps, JobSpec } from "./spec";

/**
 * Rewrap: every salt with a ciphertext (current, retained or shred) under a key
 * version older than the one current when the job started is re-encrypted
 * under it. Bytes, versions and metadata do not change, so pseudonyms do not;
 * a salt already current is skipped, so a rerun after a fault does the rest.
 * One audit entry per salt rewrapped, chained with the salt's other entries.
 */
export const rewrapJob: JobSpec = {
  type: "rewrap",
  operation: "rewrap",
  chunkSize: MAX_REWRAP_BATCH,
  writesPerItem: WRITES_PER_REWRAP,
  prepare: async (deps) => ({ key_version: (await deps.keys.current()).version }),
  count: (deps, kind, params) => deps.salts.countNeedingRewrap(kind, params.key_version!),
  listItems: async (deps, kind, page, params) => {
    const listed = await deps.salts.listNeedingRewrap(kind, params.key_version!, page);
    return {
      items: listed.items.map((r) => ({ kind, id: r.id, version: r.version })),
      nextCursor: listed.nextCursor,
    };
  },
  units: (deps, kind, limit, params) =>
    mapStream(
      pagedStream((page) => rewrapJob.listItems(deps, kind, page, params), limit, deps.config.pageSize),
      (item) => ({ item }),
    ),
  apply: async (deps, ctx, job, units) => {
    const target = job.params.key_version!;
    const current = (await deps.keys.current()).version;
    // An instance that has not seen the job's key version yet must not rewrap to an older one: retry later.
    if (current < target) throw unavailable(`This instance does not have key version ${target} yet`);
    const outcomes = await deps.salts.rewrap(
      units.map(({ item }) => ({
        kind: item.kind,
        id: item.id,
        rewrapId: rewrapIdOf(job.job_id, item),
        audit: { ...auditContext(ctx, "rewrap", `rewrap job ${job.job_id}`) },
      })),
    );
    return outcomes.map((o) => (o.status === "rewrapped" ? "done" : "skipped"));
  },
};

const rewrapIdOf = (jobId: string, item: JobItem) => jobItemId(jobId, { ...item, version: 0 });

export interface RewrapResponse {
  job_id: string;
  dry_run: boolean;
  total: number;
  queued: number;
  mode: "inline" | "fanout" | "dry_run";
  /** The key version everything is moved to. */
  key_version: number;
  rewrapped: number;
  failed: number;
}

/** salts-rewrap: re-encrypts every stored salt version under the current key version. */
export async function startRewrap(
  deps: JobDeps,
  ctx: CallContext,
  input: { dry_run: boolean },
): Promise<RewrapResponse> {
  // Scope secrets are few: re-encrypted here, before the salts' job (one audit entry per scope).
  if (!input.dry_run) await deps.scopes.rewrapScopes(auditContext(ctx, "rewrap", "rewrap of scope secrets"));
  return startJob(deps, ctx, rewrapJob, { scope: "all", dryRun: input.dry_run }, (started) => ({
    job_id: started.job.job_id,
    dry_run: input.dry_run,
    total: started.job.total,
    queued: started.queued,
    mode: started.mode,
    key_version: started.job.params.key_version!,
    rewrapped: started.counts.done,
    failed: started.counts.failed,
  }));
}
