import type { ApprovalRecord, ApprovalRun, ApprovalState, GuardableOperation } from "../domain/approvals";
import type { AuditDraft } from "../domain/audit";
import type { Page } from "../domain/paging";
import type { Replayed } from "./saltStore";

/** A first answer to commit with a change, under the caller's request_id (see RequestStore). */
export interface RequestRecord {
  key: string;
  fingerprint: string;
  answer: unknown;
}

export interface StoredApprovalPolicy {
  operations: GuardableOperation[];
  /**
   * False when the stored policy fails its MAC, or is missing although approvals
   * were audited before (a database writer removed it): the guard then treats
   * every guardable operation as guarded.
   */
  intact: boolean;
}

/** What a decision found: it made the change, the request was no longer pending, or it had expired (recorded now). */
export type DecideOutcome =
  | { status: "decided"; record: ApprovalRecord }
  | { status: "not-pending"; record: ApprovalRecord }
  | { status: "expired"; record: ApprovalRecord };

/**
 * Approvals of guarded operations and the policy naming them. Every change
 * commits with its entry in the chained audit trail (chain of APPROVALS_TARGET);
 * a decision is one transaction whose precondition is the pending state, so of
 * concurrent decisions exactly one wins.
 */
export interface ApprovalStore {
  readPolicy(): Promise<StoredApprovalPolicy>;
  /**
   * Replaces the policy by `next(current)` in one transaction with the audit
   * entry `draft(before, after)` and, when given, the request record. A
   * replayed request_id changes nothing.
   */
  writePolicy(
    next: (current: StoredApprovalPolicy) => GuardableOperation[],
    draft: (before: GuardableOperation[], after: GuardableOperation[]) => AuditDraft,
    request?: RequestRecord,
  ): Promise<{ status: "written"; operations: GuardableOperation[] } | Replayed>;
  /** Records a new pending approval with its audit entry (and the asker's request record). */
  create(
    record: ApprovalRecord,
    draft: AuditDraft,
    request?: RequestRecord,
  ): Promise<{ status: "created" } | Replayed>;
  get(approvalId: string): Promise<ApprovalRecord | null>;
  /**
   * Decides a pending request (an approval also marks its run as started), or,
   * when it is overdue, records its expiry instead: each with its audit entry.
   */
  decide(
    approvalId: string,
    decision: { state: "approved" | "rejected"; by: string; reason: string },
    drafts: { decided: AuditDraft; expired: AuditDraft },
  ): Promise<DecideOutcome>;
  /** Records the expiry of a pending request past its expiry (with its audit entry). */
  expire(approvalId: string, draft: AuditDraft): Promise<DecideOutcome>;
  /** Records how the run of an approved request ended. */
  finishRun(approvalId: string, run: ApprovalRun): Promise<void>;
  /** Newest first, optionally in one state (as stored: an overdue request is still `pending` here). */
  list(query: {
    state?: ApprovalState | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<ApprovalRecord>>;
  /** Pending requests whose expiry has passed, oldest first. */
  listOverdue(now: Date, limit: number): Promise<ApprovalRecord[]>;
}
