import { isGuardable } from "../domain/approvals";
import { requestApproval, type PendingApproval } from "../usecases/approvals";
import type { CallContext, Services } from "../usecases/deps";

/**
 * The dual-control hook of the pipeline (after validation and a request_id's
 * replay, before the use case): a call to an operation the approval policy
 * guards does nothing but record the request, and answers `pending_approval`.
 * A dry run changes nothing and is never held.
 */
export async function approvalGate(
  rt: Services,
  operation: string,
  ctx: CallContext,
  input: Record<string, unknown>,
): Promise<PendingApproval | null> {
  if (!isGuardable(operation) || input.dry_run === true) return null;
  if (!(await rt.approvalPolicy.guarded(operation))) return null;
  return requestApproval(rt, ctx, operation, input);
}
