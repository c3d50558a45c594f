import { randomUUID } from "node:crypto";
import type { ServiceRuntime } from "../app/runtime";
import { idHash } from "../domain/crypto";
import { SALT_KINDS } from "../domain/ids";
import { nextRotation } from "../domain/policy";
import { logs } from "../observability/logs";
import { auditContext, type CallContext } from "./context";
import { refreshPolicy } from "./reloadConfig";
import { startRotateDue, type RotateDueResponse } from "./rotationJob";

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
  rt: ServiceRuntime,
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
  if (!(await rt.jobs.acquireLease("sweep", holder, rt.clock(), LEASE_MS))) {
    logs.sweep({ event: "skipped: another sweep holds the lease", correlation_id: ctx.correlationId });
    return report;
  }
  let result: "success" | "error" = "error";
  const heldFrom = rt.clock();
  try {
    report.ran = true;
    await refreshPolicy(rt, true);
    report.job = await startRotateDue(rt, ctx, { kind: "all", dry_run: false });
    await checkInvariants(rt, report, options.scanLimit ?? 200_000);
    for (let i = 0; i < 200; i++) {
      const purged = await rt.backend.purgeExpiredHistory(500);
      report.history_purged += purged;
      if (purged < 500) break;
    }
    const [users, globals] = await Promise.all([rt.backend.countDue("user"), rt.backend.countDue("global")]);
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
    await rt.backend
      .appendAudit({
        ...auditContext(ctx, "sweep"),
        target: { kind: "system", id: "integrity-sweep" },
        result,
        details,
      })
      .catch((e: unknown) => logs.auditWriteFailed("sweep", ctx.correlationId, e));
    rt.metrics.record("sweep", result, Number(process.hrtime.bigint() - started) / 1e9);
    await rt.metrics.flush().catch((e: unknown) => logs.metricsFlushFailed(e));
    report.held = { from: heldFrom.toISOString(), to: rt.clock().toISOString() };
    await rt.jobs.releaseLease("sweep", holder).catch(() => undefined);
  }
}

async function checkInvariants(rt: ServiceRuntime, report: SweepReport, scanLimit: number): Promise<void> {
  const policy = rt.policy();
  for (const kind of SALT_KINDS) {
    let cursor: string | null = null;
    do {
      if (report.scanned >= scanLimit) {
        report.scan_complete = false;
        return;
      }
      const page = await rt.backend.scan(kind, { limit: PAGE, cursor });
      for (const { record, decrypts, retainedPreviousHash } of page.items) {
        report.scanned++;
        const flag = (problem: string) =>
          logs.sweep({
            event: "invariant violated",
            problem,
            kind,
            id_hash: idHash(record.id),
            version: record.version,
          });
        const expected = nextRotation(policy, kind, record.last_rotated);
        if (expected.getTime() !== record.next_rotation.getTime()) {
          if (await rt.backend.repairNextRotation(kind, record.id, record.version, expected)) {
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
      cursor = page.nextCursor;
    } while (cursor);
  }
}
