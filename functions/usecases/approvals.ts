import {
  APPROVALS_TARGET,
  approvalIntact,
  approvalView,
  newApprovalId,
  sealApproval,
  type ApprovalOperation,
  type ApprovalRecord,
  type ApprovalState,
  type ApprovalView,
} from "../domain/approvals";
import type { AuditDraft } from "../domain/audit";
import { canonical } from "../domain/auditChain";
import { failedPrecondition, isStorageFault, notFound, SaltServiceError } from "../domain/errors";
import { logs } from "../observability/logs";
import type { CallContext, Services } from "./deps";
import { replayedAnswer } from "./idempotency";

export interface PendingApproval {
  pending_approval: {
    approval_id: string;
    operation: ApprovalOperation;
    requested_by: string;
    expires_at: string;
  };
}

type AskDeps = Pick<Services, "approvals" | "auditKey" | "clock" | "config">;
type DecideDeps = AskDeps & Pick<Services, "identity" | "audit" | "requests">;

/** Runs an approved request as its asker would have run it then; the edge knows how (it holds the operations). */
export type ApprovedRunner = (approval: ApprovalRecord, ctx: CallContext) => Promise<object>;

const HOUR_MS = 3_600_000;

const stepDraft = (
  actor: AuditDraft["actor"],
  correlationId: string,
  step:
    "approval_requested" | "approval_approved" | "approval_rejected" | "approval_expired" | "approval_run",
  record: Pick<ApprovalRecord, "approval_id" | "operation" | "requested_by">,
  extra: { reason?: string | undefined; result?: "success" | "error"; details?: AuditDraft["details"] } = {},
): AuditDraft => ({
  actor,
  correlation_id: correlationId,
  operation: step,
  target: { ...APPROVALS_TARGET },
  result: extra.result ?? "success",
  ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
  details: {
    approval_id: record.approval_id,
    requested_operation: record.operation,
    requested_by: record.requested_by,
    ...extra.details,
  },
});

/** Who records an expiry: the service itself, noticed by whoever read the request (or the sweep). */
const expiryDraft = (ctx: CallContext, record: ApprovalRecord): AuditDraft =>
  stepDraft({ uid: "approval-expiry", via: ctx.actor.via }, ctx.correlationId, "approval_expired", record, {
    details: { noticed_by: ctx.actor.uid, expired_at: record.expires_at.toISOString() },
  });

/**
 * A guarded call does nothing but this: the request is recorded (sealed under
 * the audit key, audited, with the asker's request_id record in the same
 * commit, so a retry finds this answer instead of asking twice).
 */
export async function requestApproval(
  deps: AskDeps,
  ctx: CallContext,
  operation: ApprovalOperation,
  request: Record<string, unknown>,
): Promise<PendingApproval> {
  const { request_id: _id, ...asked } = request;
  const now = deps.clock();
  const facts = {
    approval_id: newApprovalId(now),
    operation,
    request: JSON.parse(JSON.stringify(asked)) as Record<string, unknown>,
    requested_by: ctx.actor.uid,
    requested_at: now,
    expires_at: new Date(now.getTime() + deps.config.approvalTtlHours * HOUR_MS),
  };
  const record: ApprovalRecord = {
    ...facts,
    state: "pending",
    correlation_id: ctx.correlationId,
    ...sealApproval(facts, await deps.auditKey.current()),
  };
  const answer: PendingApproval = {
    pending_approval: {
      approval_id: record.approval_id,
      operation,
      requested_by: record.requested_by,
      expires_at: record.expires_at.toISOString(),
    },
  };
  const draft = stepDraft(ctx.actor, ctx.correlationId, "approval_requested", record, {
    reason: typeof asked.reason === "string" ? asked.reason : undefined,
    details: { request: canonical(record.request), expires_at: answer.pending_approval.expires_at },
  });
  const out = await deps.approvals.create(
    record,
    draft,
    ctx.request ? { ...ctx.request, answer } : undefined,
  );
  if (out.status === "replayed") return replayedAnswer<PendingApproval>(out);
  return answer;
}

/** A stored request is trusted only if its seal holds: a database writer cannot change what gets approved. */
async function assertIntact(deps: Pick<Services, "auditKey">, record: ApprovalRecord): Promise<void> {
  const key = await deps.auditKey.version(record.key_version);
  if (!approvalIntact(record, key.bytes)) {
    throw failedPrecondition(`Approval ${record.approval_id} was changed in storage; it cannot be decided`);
  }
}

/** The asker must still be an active admin: the request runs as if they called now. */
async function assertAskerActive(deps: Pick<Services, "identity">, record: ApprovalRecord): Promise<void> {
  const asker = await deps.identity.lookup(record.requested_by);
  if (!asker || asker.disabled || asker.claims.admin !== true) {
    throw failedPrecondition(
      `The admin who asked (${record.requested_by}) no longer holds the admin role; the request cannot run`,
    );
  }
}

export interface DecideResponse {
  approval: ApprovalView;
  result?: object;
  /** When the approved request ran and failed: what its asker would have been told. */
  error?: { code: string; message: string };
}

/**
 * A second admin decides. The asker cannot; a decided or expired request is
 * failed-precondition. The decision is one transaction on the pending state, so
 * of concurrent decisions one wins; on approval the stored request runs once,
 * under a request id derived from the approval (a run resumed after a lost
 * answer finds its first answer instead of acting again).
 */
export async function decideApproval(
  deps: DecideDeps,
  ctx: CallContext,
  input: { approval_id: string; decision: "approve" | "reject"; reason: string },
  runner: ApprovedRunner,
): Promise<DecideResponse> {
  const answer = await decide(deps, ctx, input, runner);
  // The decider's own request_id: a retry after a lost answer gets this one (the pipeline replays it).
  if (ctx.request) {
    await deps.requests
      .claim(ctx.request.key, ctx.request.fingerprint, answer)
      .catch((e: unknown) => logs.auditWriteFailed("approve", ctx.correlationId, e));
  }
  return answer;
}

async function decide(
  deps: DecideDeps,
  ctx: CallContext,
  input: { approval_id: string; decision: "approve" | "reject"; reason: string },
  runner: ApprovedRunner,
): Promise<DecideResponse> {
  const record = await deps.approvals.get(input.approval_id);
  if (!record) throw notFound(`Approval ${input.approval_id}`);
  await assertIntact(deps, record);
  if (record.requested_by === ctx.actor.uid) {
    throw new SaltServiceError(
      "permission-denied",
      "The admin who asked cannot decide the request; another admin must",
    );
  }
  // The approver's retry of an approval whose run never reported back: resume it (it cannot act twice).
  const stalled = record.state === "approved" && record.run?.state === "running";
  if (stalled && input.decision === "approve" && record.decided_by === ctx.actor.uid) {
    return runApproved(deps, ctx, record, runner);
  }
  if (record.state !== "pending")
    throw failedPrecondition(`Approval ${record.approval_id} is already ${record.state}`);
  if (input.decision === "approve") await assertAskerActive(deps, record);
  const state = input.decision === "approve" ? "approved" : "rejected";
  const out = await deps.approvals.decide(
    record.approval_id,
    { state, by: ctx.actor.uid, reason: input.reason },
    {
      decided: stepDraft(ctx.actor, ctx.correlationId, `approval_${state}`, record, { reason: input.reason }),
      expired: expiryDraft(ctx, record),
    },
  );
  if (out.status === "expired") {
    throw failedPrecondition(`Approval ${record.approval_id} expired at ${record.expires_at.toISOString()}`);
  }
  if (out.status === "not-pending") {
    throw failedPrecondition(`Approval ${record.approval_id} is already ${out.record.state}`);
  }
  if (state === "rejected") return { approval: approvalView(out.record, deps.clock()) };
  return runApproved(deps, ctx, out.record, runner);
}

async function runApproved(
  deps: DecideDeps,
  ctx: CallContext,
  record: ApprovalRecord,
  runner: ApprovedRunner,
): Promise<DecideResponse> {
  const startedAt = record.run?.started_at ?? deps.clock();
  let outcome: Pick<DecideResponse, "result" | "error">;
  try {
    outcome = { result: JSON.parse(JSON.stringify(await runner(record, ctx))) as object };
  } catch (e) {
    // Storage failed us: the run may be resumed (the approver approves again); its record stays `running`.
    if (isStorageFault(e) || !(e instanceof SaltServiceError) || e.code === "internal") throw e;
    outcome = { error: { code: e.code, message: e.message } };
    await deps.audit
      .appendAudit(
        stepDraft(ctx.actor, ctx.correlationId, "approval_run", record, {
          result: "error",
          details: { code: e.code },
        }),
      )
      .catch((auditError: unknown) => logs.auditWriteFailed("approve", ctx.correlationId, auditError));
  }
  const run = {
    state: outcome.error ? ("failed" as const) : ("done" as const),
    started_at: startedAt,
    finished_at: deps.clock(),
    ...(outcome.result ? { result: outcome.result as Record<string, unknown> } : {}),
    ...(outcome.error ? { error: outcome.error } : {}),
  };
  await deps.approvals
    .finishRun(record.approval_id, run)
    .catch((e: unknown) => logs.auditWriteFailed("approve", ctx.correlationId, e));
  return { approval: approvalView({ ...record, run }, deps.clock()), ...outcome };
}

/** Records the expiry of requests past their time (bounded per call): lazily on read, and by the sweep. */
export async function expireOverdue(
  deps: Pick<Services, "approvals" | "clock">,
  ctx: CallContext,
  limit = 50,
): Promise<number> {
  const overdue = await deps.approvals.listOverdue(deps.clock(), limit);
  let expired = 0;
  for (const record of overdue) {
    const out = await deps.approvals.expire(record.approval_id, expiryDraft(ctx, record));
    if (out.status === "expired") expired++;
  }
  return expired;
}

export interface ApprovalsResponse {
  approvals: ApprovalView[];
  next_cursor: string | null;
}

/** Approvals newest first; overdue requests are recorded as expired before the page is read. */
export async function listApprovals(
  deps: Pick<Services, "approvals" | "clock">,
  ctx: CallContext,
  input: {
    state?: ApprovalState | undefined;
    limit: number;
    cursor?: string | undefined;
    approval_id?: string | undefined;
  },
): Promise<ApprovalsResponse> {
  await expireOverdue(deps, ctx);
  const now = deps.clock();
  if (input.approval_id !== undefined) {
    const one = await deps.approvals.get(input.approval_id);
    if (!one) throw notFound(`Approval ${input.approval_id}`);
    return { approvals: [approvalView(one, now)], next_cursor: null };
  }
  const page = await deps.approvals.list(input);
  const views = page.items.map((r) => approvalView(r, now));
  return {
    approvals: input.state ? views.filter((v) => v.state === input.state) : views,
    next_cursor: page.nextCursor,
  };
}
