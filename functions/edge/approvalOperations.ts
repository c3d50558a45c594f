import type { z } from "zod";
import type { ApprovalRecord, GuardableOperation } from "../domain/approvals";
import { failedPrecondition } from "../domain/errors";
import type { CallContext, Services } from "../usecases/deps";
import { ACCESS_OPERATIONS } from "./accessOperations";
import type { CallableSpec } from "./callable";
import { controlSchemas } from "./controlSchemas";
import { OPERATIONS } from "./operations";
import { requestFingerprint, requestKey } from "./requests";
import { parseRequest } from "./schemas";

const op = <S extends z.ZodType, R extends object>(spec: CallableSpec<S, R>) => spec;

/** The operation each guardable name stands for. */
const GUARDED: Record<GuardableOperation, CallableSpec<z.ZodType, object>> = {
  erase: OPERATIONS.erase,
  rewrap: OPERATIONS.rewrap,
  rotate_due: OPERATIONS.rotateDue,
  reload: OPERATIONS.reloadConfig,
  set_role: ACCESS_OPERATIONS.setRole,
};

/**
 * Runs an approved request exactly as its asker's call would have run now: the
 * same schema and use case, as the asker, with the approver named in every
 * audit entry, under a request id derived from the approval (so a resumed run
 * finds its first answer instead of acting twice).
 */
async function runApproved(s: Services, ctx: CallContext, approval: ApprovalRecord): Promise<object> {
  const approvalCtx = { id: approval.approval_id, approvedBy: ctx.actor.uid };
  const asker: CallContext = {
    correlationId: ctx.correlationId,
    actor: { uid: approval.requested_by, via: "callable" },
    approval: approvalCtx,
  };
  if (approval.operation === "set_approvals") {
    const { applyApprovedRemoval } = await import("../usecases/approvalPolicy.js");
    return applyApprovedRemoval(s, asker, approval.request);
  }
  const spec = GUARDED[approval.operation];
  if (!spec) throw failedPrecondition(`Approvals of ${String(approval.operation)} cannot run here`);
  const input = parseRequest(spec.schema, approval.request) as Record<string, unknown>;
  asker.request = {
    key: requestKey(approval.requested_by, `approval/${approval.approval_id}`),
    fingerprint: requestFingerprint(spec.operation, input),
  };
  await s.policy.refresh();
  return spec.run(s, asker, input);
}

/** Dual control: the policy, the decision, and the listing. */
export const APPROVAL_OPERATIONS = {
  setApprovals: op({
    operation: "set_approvals",
    role: "admin",
    mutating: true,
    schema: controlSchemas.setApprovals,
    run: async (s, ctx, i) => (await import("../usecases/approvalPolicy.js")).setApprovals(s, ctx, i),
  }),
  approve: op({
    operation: "approve",
    role: "admin",
    mutating: true,
    schema: controlSchemas.approve,
    run: async (s, ctx, i) =>
      (await import("../usecases/approvals.js")).decideApproval(s, ctx, i, (approval, c) =>
        runApproved(s, c, approval),
      ),
  }),
  approvals: op({
    operation: "approvals",
    role: "auditor",
    mutating: false,
    schema: controlSchemas.approvals,
    run: async (s, ctx, i) => {
      const [{ listApprovals }, { currentPolicy }] = await Promise.all([
        import("../usecases/approvals.js"),
        import("../usecases/approvalPolicy.js"),
      ]);
      return { ...(await listApprovals(s, ctx, i)), policy: await currentPolicy(s) };
    },
  }),
} as const;
