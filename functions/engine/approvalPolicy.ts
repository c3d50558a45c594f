import { GUARDABLE_OPERATIONS, isGuardable, type GuardableOperation } from "../domain/approvals";
import type { ApprovalStore, StoredApprovalPolicy } from "../ports/approvals";

/**
 * The approval policy as this instance knows it. A stale copy may only err
 * towards guarding: an operation the copy says is guarded is guarded (a guard
 * removed elsewhere, itself an approved change, reaches this instance within
 * `refreshMs`), while "not guarded" is always confirmed by a read, so a guard
 * added on any instance holds at once everywhere. Only the guardable operations
 * ever cause that read; every other call costs nothing here.
 */
export class ApprovalPolicySource {
  private copy: StoredApprovalPolicy = { operations: [], intact: true };
  private readAt: number | null = null;

  constructor(
    private readonly store: Pick<ApprovalStore, "readPolicy">,
    private readonly refreshMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** What guards `operation` now: a policy that fails its check guards everything. */
  private static guards(policy: StoredApprovalPolicy): readonly GuardableOperation[] {
    return policy.intact ? policy.operations : GUARDABLE_OPERATIONS;
  }

  async guarded(operation: string): Promise<boolean> {
    if (!isGuardable(operation)) return false;
    const fresh = this.readAt !== null && this.now() - this.readAt < this.refreshMs;
    if (fresh && ApprovalPolicySource.guards(this.copy).includes(operation)) return true;
    return ApprovalPolicySource.guards(await this.read()).includes(operation);
  }

  /** The policy as stored now (and this instance's copy refreshed). */
  async read(): Promise<StoredApprovalPolicy> {
    const policy = await this.store.readPolicy();
    this.set(policy);
    return policy;
  }

  /** Puts a policy this instance just wrote in force here at once. */
  set(policy: StoredApprovalPolicy): void {
    this.copy = policy;
    this.readAt = this.now();
  }
}
