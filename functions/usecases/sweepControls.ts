import { logs } from "../observability/logs";
import { reconcileRoles } from "./access";
import { expireOverdue } from "./approvals";
import type { CallContext, Services } from "./deps";

export interface ControlsReport {
  approvals_expired: number;
  role_changes_settled: number;
  accounts_scanned: number;
  /** A pass over every Firebase Auth account finished in this sweep. */
  roles_reconciled: boolean;
  error?: string;
}

/** Time the sweep gives the pass over Firebase Auth accounts; the rest waits for the next sweep. */
const ROLE_SCAN_BUDGET_MS = 120_000;

/**
 * The sweep's part in dual control and access: records the expiry of requests
 * nobody decided in time, settles role changes whose audited half never
 * committed, and goes on with the pass over Firebase Auth that brings holders
 * granted outside the service into the role index. A failure here is reported,
 * and leaves the rest of the sweep alone.
 */
export async function sweepControls(
  deps: Pick<Services, "approvals" | "clock" | "accounts" | "roles">,
  ctx: CallContext,
): Promise<ControlsReport> {
  const report: ControlsReport = {
    approvals_expired: 0,
    role_changes_settled: 0,
    accounts_scanned: 0,
    roles_reconciled: false,
  };
  try {
    for (let i = 0; i < 20; i++) {
      const n = await expireOverdue(deps, ctx, 50);
      report.approvals_expired += n;
      if (n < 50) break;
    }
    const roles = await reconcileRoles(deps, ROLE_SCAN_BUDGET_MS);
    report.role_changes_settled = roles.settled;
    report.accounts_scanned = roles.scanned;
    report.roles_reconciled = roles.complete;
  } catch (e) {
    report.error = (e as { code?: string }).code ?? "internal";
    logs.unexpectedError("sweep_controls", ctx.correlationId, e);
  }
  logs.sweep({
    event: "controls",
    correlation_id: ctx.correlationId,
    ...report,
    error: report.error ?? null,
  });
  return report;
}
