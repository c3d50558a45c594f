import { randomUUID } from "node:crypto";
import { logs } from "../observability/logs";
import { auditContext, type CallContext, type Services } from "./deps";
import { startRotateDue, type RotateDueResponse } from "./jobs/rotation";
import { startScopeRotation, type ScopeRotationResponse } from "./jobs/scopeRotation";
import type { JobDeps } from "./jobs/spec";
import { catchUpAnchor, CheckpointWriter, verifyCheckpoint, verifyTrailSlice } from "./sweepAudit";
import { sweepControls, type ControlsReport } from "./sweepControls";
import { checkSalts, noSaltChecks, type SaltChecks } from "./sweepSalts";

export interface SweepReport extends SaltChecks {
  ran: boolean;
  /** While the lease was held (absent when the sweep stood down). */
  held?: { from: string; to: string };
  job?: RotateDueResponse;
  /** The job over due scopes, when any was due. */
  scope_job?: ScopeRotationResponse;
  history_purged: number;
  due_after: { users: number; globals: number };
  audit_entries_verified: number;
  checkpoint_heads_verified: number;
  audit_breaks: number;
  checkpoint?: { id: string; seq: number; chains: number; digest: string };
  /** Dual control and access: expiries recorded, role changes settled, the pass over Auth accounts. */
  controls?: ControlsReport;
}

type SweepDeps = JobDeps &
  Pick<
    Services,
    "leases" | "metrics" | "settings" | "auditKey" | "anchor" | "approvals" | "accounts" | "roles"
  >;

const LEASE_MS = 30 * 60 * 1000;

/** Entries from before the time index was sharded get their shard, up to 20 pages per sweep, once. */
async function backfillAuditShards(deps: SweepDeps, state: Record<string, unknown>): Promise<void> {
  for (let i = 0; i < 20 && state.audit_backfill !== "done"; i++) {
    const cursor = typeof state.audit_backfill === "string" ? state.audit_backfill : null;
    const out = await deps.salts.backfillAuditShards({ limit: 500, cursor });
    state.audit_backfill = out.next ?? "done";
  }
}

function mergeCounts(stored: unknown, add: Record<string, number>): Record<string, number> {
  const into = typeof stored === "string" ? (JSON.parse(stored) as Record<string, number>) : {};
  for (const [k, n] of Object.entries(add)) into[k] = (into[k] ?? 0) + n;
  return into;
}

/**
 * The scheduled integrity sweep: under a lease (so two never run at once) it
 * re-reads the intervals, starts a rotation job over everything due, checks
 * up to SWEEP_SCAN_PER_RUN salts, going on from where the last sweep stopped
 * (repairing what is safe to repair, reporting the rest), purges expired
 * history, verifies the next slice of the audit trail and of the last
 * checkpoint, and, when a pass over every salt completes, writes a new
 * checkpoint of every chain head (its digest goes to the log); then one
 * summary audit entry.
 */
export async function runSweep(
  deps: SweepDeps,
  ctx: CallContext,
  options: { scanLimit?: number } = {},
): Promise<SweepReport> {
  const started = process.hrtime.bigint();
  const holder = randomUUID();
  const report: SweepReport = {
    ran: false,
    ...noSaltChecks(),
    history_purged: 0,
    due_after: { users: 0, globals: 0 },
    audit_entries_verified: 0,
    checkpoint_heads_verified: 0,
    audit_breaks: 0,
  };
  if (!(await deps.leases.acquireLease("sweep", holder, deps.clock(), LEASE_MS))) {
    logs.sweep({ event: "skipped: another sweep holds the lease", correlation_id: ctx.correlationId });
    return report;
  }
  let result: "success" | "error" = "error";
  const heldFrom = deps.clock();
  try {
    report.ran = true;
    await deps.policy.refresh(true);
    report.job = await startRotateDue(deps, ctx, { kind: "all", dry_run: false });
    // Scopes rotate on their own intervals through the same engine (no job record when none is due).
    if ((await deps.scopes.countDueScopes()) > 0) report.scope_job = await startScopeRotation(deps, ctx);
    const state = await deps.settings.readSweepState();
    const breaks: string[] = [];
    // The previous checkpoint is checked before a new one is written.
    report.checkpoint_heads_verified = await verifyCheckpoint(deps, state, breaks);
    const checkpoint = await CheckpointWriter.resume(deps, state, breaks);
    Object.assign(
      report,
      await checkSalts(deps, checkpoint, state, options.scanLimit ?? deps.config.sweepScanPerRun),
    );
    // Counts per key version add up over a whole pass, which may take several sweeps.
    const pass = mergeCounts(state.pass_key_versions, report.key_versions);
    if (report.scan_complete) {
      report.checkpoint = await checkpoint.finish(state);
      state.key_versions = JSON.stringify(pass);
      delete state.pass_key_versions;
      state.pass_completed_at = deps.clock().toISOString();
    } else {
      await checkpoint.save(state);
      state.pass_key_versions = JSON.stringify(pass);
    }
    // A checkpoint whose anchor failed to be written (Storage unreachable) is anchored now.
    await catchUpAnchor(deps).catch((e: unknown) => logs.auditAnchorFailed("newest", e));
    if (checkpoint.sealed > 0) logs.sweep({ event: "legacy chain heads sealed", count: checkpoint.sealed });
    await backfillAuditShards(deps, state);
    report.audit_entries_verified = await verifyTrailSlice(deps, state, breaks);
    report.audit_breaks = breaks.length;
    for (const problem of breaks.slice(0, 100)) logs.sweep({ event: "audit trail break", problem });
    await deps.settings.writeSweepState(state);
    for (let i = 0; i < 200; i++) {
      const purged = await deps.salts.purgeExpiredHistory(500);
      report.history_purged += purged;
      if (purged < 500) break;
    }
    report.controls = await sweepControls(deps, ctx);
    const [users, globals] = await Promise.all([deps.salts.countDue("user"), deps.salts.countDue("global")]);
    report.due_after = { users, globals };
    result = "success";
    return report;
  } finally {
    const details = {
      job_id: report.job?.job_id ?? null,
      rotated: report.job?.rotated ?? 0,
      queued: report.job?.queued ?? 0,
      scopes_rotated: report.scope_job?.rotated ?? 0,
      scanned: report.scanned,
      scan_complete: report.scan_complete,
      repaired_next_rotation: report.repaired_next_rotation,
      rotation_count_mismatch: report.rotation_count_mismatch,
      previous_hash_mismatch: report.previous_hash_mismatch,
      undecryptable: report.undecryptable,
      upgraded_legacy: report.upgraded_legacy,
      key_versions: Object.entries(report.key_versions)
        .map(([v, n]) => `${v}:${n}`)
        .join(","),
      history_purged: report.history_purged,
      audit_entries_verified: report.audit_entries_verified,
      checkpoint_heads_verified: report.checkpoint_heads_verified,
      audit_breaks: report.audit_breaks,
      checkpoint_digest: report.checkpoint?.digest ?? null,
      due_users_after: report.due_after.users,
      due_globals_after: report.due_after.globals,
    };
    logs.sweep({ event: "finished", result, correlation_id: ctx.correlationId, ...details });
    await deps.audit
      .appendAudit({
        ...auditContext(ctx, "sweep"),
        target: { kind: "system", id: "integrity-sweep" },
        result,
        details,
      })
      .catch((e: unknown) => logs.auditWriteFailed("sweep", ctx.correlationId, e));
    deps.metrics.record("sweep", result, Number(process.hrtime.bigint() - started) / 1e9);
    await deps.metrics.flush().catch((e: unknown) => logs.metricsFlushFailed(e));
    report.held = { from: heldFrom.toISOString(), to: deps.clock().toISOString() };
    await deps.leases.releaseLease("sweep", holder).catch(() => undefined);
  }
}
