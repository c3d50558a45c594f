import { randomUUID } from "node:crypto";
import { idHash } from "../domain/crypto";
import { SALT_KINDS } from "../domain/ids";
import { eachPage } from "../domain/paging";
import { nextRotation } from "../domain/policy";
import { logs } from "../observability/logs";
import { auditContext, type CallContext, type Services } from "./deps";
import { startRotateDue, type RotateDueResponse } from "./jobs/rotation";
import type { JobDeps } from "./jobs/spec";

type SweepDeps = JobDeps & Pick<Services, "leases" | "metrics">;

export interface SweepReport {
  ran: boolean;
  /** While the lease was held (absent when the sweep stood down). */
  held?: { from: string; to: string };
  job?: RotateDueResponse;
  scanned: number;
  scan_complete: boolean;
  repaired_next_rotation: number;
  rotation_count_mismatch: number;
  previous_hash_mismatch: number;
  undecryptable: number;
  history_purged: number;
  due_after: { users: number; globals: number };
}

const LEASE_MS = 30 * 60 * 1000;
const PAGE = 300;

/**
 * The scheduled integrity sweep: under a lease (so two never run at once) it
 * re-reads the intervals, starts a rotation job over everything due, checks
 * every salt's invariants (repairing what is safe to repair, reporting the
 * rest), purges expired history and writes one summary audit entry.
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
    scanned: 0,
    scan_complete: true,
    repaired_next_rotation: 0,
    rotation_count_mismatch: 0,
    previous_hash_mismatch: 0,
    undecryptable: 0,
    history_purged: 0,
    due_after: { users: 0, globals: 0 },
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
    await checkInvariants(deps, report, options.scanLimit ?? 200_000);
    for (let i = 0; i < 200; i++) {
      const purged = await deps.salts.purgeExpiredHistory(500);
      report.history_purged += purged;
      if (purged < 500) break;
    }
    const [users, globals] = await Promise.all([deps.salts.countDue("user"), deps.salts.countDue("global")]);
    report.due_after = { users, globals };
    result = "success";
    return report;
  } finally {
    const details = {
      job_id: report.job?.job_id ?? null,
      rotated: report.job?.rotated ?? 0,
      queued: report.job?.queued ?? 0,
      scanned: report.scanned,
      scan_complete: report.scan_complete,
      repaired_next_rotation: report.repaired_next_rotation,
      rotation_count_mismatch: report.rotation_count_mismatch,
      previous_hash_mismatch: report.previous_hash_mismatch,
      undecryptable: report.undecryptable,
      history_purged: report.history_purged,
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

async function checkInvariants(deps: SweepDeps, report: SweepReport, scanLimit: number): Promise<void> {
  const policy = deps.policy.current();
  for (const kind of SALT_KINDS) {
    for await (const page of eachPage((cursor) => deps.salts.scan(kind, { limit: PAGE, cursor }))) {
      for (const { record, decrypts, retainedPreviousHash } of page.items) {
        if (report.scanned >= scanLimit) {
          report.scan_complete = false;
          return;
        }
        report.scanned++;
        const flag = (problem: string) =>
          logs.sweep({
            event: "invariant violated",
            problem,
            kind,
            id_hash: idHash(record.id),
            version: record.version,
          });
        const expected = nextRotation(policy, kind, record.last_rotated, record);
        if (expected.getTime() !== record.next_rotation.getTime()) {
          if (await deps.salts.repairNextRotation(kind, record.id, record.version, expected)) {
            report.repaired_next_rotation++;
          }
        }
        if (record.rotation_count !== record.version - 1) {
          report.rotation_count_mismatch++;
          flag("rotation_count != version - 1");
        }
        const previousOk =
          record.version === 1
            ? record.previous_salt_hash === null
            : retainedPreviousHash === null || retainedPreviousHash === record.previous_salt_hash;
        if (!previousOk) {
          report.previous_hash_mismatch++;
          flag("previous_salt_hash does not match the retired version");
        }
        if (!decrypts) {
          report.undecryptable++;
          flag("current salt does not decrypt under the key ring");
        }
      }
    }
  }
}
