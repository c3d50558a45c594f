import {
  APPROVALS_TARGET,
  GUARDABLE_OPERATIONS,
  normalizePolicy,
  policyChange,
  type GuardableOperation,
} from "../domain/approvals";
import type { AuditDraft } from "../domain/audit";
import type { StoredApprovalPolicy } from "../ports/approvals";
import { requestApproval, type PendingApproval } from "./approvals";
import { auditContext, type CallContext, type Services } from "./deps";
import { replayedAnswer } from "./idempotency";

type PolicyDeps = Pick<Services, "approvals" | "approvalPolicy" | "auditKey" | "clock" | "config">;

export interface SetApprovalsResponse {
  /** The guards in force after this call. */
  operations: GuardableOperation[];
  pending_approval?: PendingApproval["pending_approval"];
}

/** The guards a stored policy puts in force: one that fails its check guards everything. */
const inForce = (p: StoredApprovalPolicy): GuardableOperation[] =>
  p.intact ? p.operations : [...GUARDABLE_OPERATIONS];

const policyDraft =
  (ctx: CallContext, reason: string | undefined) =>
  (before: GuardableOperation[], after: GuardableOperation[]): AuditDraft => {
    const context = auditContext(ctx, "set_approvals", reason);
    return {
      ...context,
      target: { ...APPROVALS_TARGET },
      result: "success",
      details: { ...context.details, before: before.join(",") || "none", after: after.join(",") || "none" },
    };
  };

/**
 * Sets the operations that need a second admin. Guards added are in force at
 * once (this instance at once, every other instance on its next guarded call);
 * removing any is itself a request for approval, and only the removal waits:
 * when approved, exactly the guards asked to go are removed from the policy as
 * it is then.
 */
export async function setApprovals(
  deps: PolicyDeps,
  ctx: CallContext,
  input: { operations: GuardableOperation[]; reason: string },
): Promise<SetApprovalsResponse> {
  const wanted = normalizePolicy(input.operations);
  const before = inForce(await deps.approvalPolicy.read());
  const { added, removed } = policyChange(before, wanted);
  let operations = before;
  if (removed.length === 0 || added.length > 0) {
    const after = normalizePolicy([...before, ...added]);
    // With nothing to remove, the whole answer commits with this write (and the request record).
    const record =
      removed.length === 0 && ctx.request ? { ...ctx.request, answer: { operations: after } } : undefined;
    const out = await deps.approvals.writePolicy(
      (current) => normalizePolicy([...inForce(current), ...added]),
      policyDraft(ctx, input.reason),
      record,
    );
    if (out.status === "replayed") return replayedAnswer<SetApprovalsResponse>(out);
    operations = out.operations;
    deps.approvalPolicy.set({ operations, intact: true });
  }
  if (removed.length === 0) return { operations };
  const pending = await requestApproval(deps, ctx, "set_approvals", {
    operations: wanted,
    remove: removed,
    reason: input.reason,
  });
  return { operations, ...pending };
}

/** The approved removal of guards: those asked to go leave the policy as it is now; anything added since stays. */
export async function applyApprovedRemoval(
  deps: PolicyDeps,
  ctx: CallContext,
  request: Record<string, unknown>,
): Promise<SetApprovalsResponse> {
  const remove = normalizePolicy(Array.isArray(request.remove) ? (request.remove as string[]) : []);
  const reason = typeof request.reason === "string" ? request.reason : undefined;
  const out = await deps.approvals.writePolicy(
    (current) => inForce(current).filter((o) => !remove.includes(o)),
    policyDraft(ctx, reason),
  );
  if (out.status === "replayed") return replayedAnswer<SetApprovalsResponse>(out);
  deps.approvalPolicy.set({ operations: out.operations, intact: true });
  return { operations: out.operations };
}

/** The policy as stored now, for display. */
export async function currentPolicy(
  deps: Pick<Services, "approvalPolicy">,
): Promise<{ operations: GuardableOperation[]; intact: boolean }> {
  const p = await deps.approvalPolicy.read();
  return { operations: inForce(p), intact: p.intact };
}
