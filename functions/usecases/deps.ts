import type { ActorVia } from "../domain/audit";
import type { ServiceConfig } from "../config/settings";
import type { SaltCache } from "../engine/saltCache";
import type { Pseudonymizer } from "../engine/pseudonymizer";
import type { ScopeCache } from "../engine/scopeCache";
import type { ScopedPseudonymizer } from "../engine/scopedPseudonymizer";
import type { ScopeStore } from "../ports/scopeStore";
import type { MetricsRecorder } from "../observability/metrics";
import type { ApprovalPolicySource } from "../engine/approvalPolicy";
import type { AccountDirectory, RoleIndex } from "../ports/accounts";
import type { ApprovalStore } from "../ports/approvals";
import type { IdentityProvider } from "../ports/identity";
import type { IdTokenVerifier } from "../ports/idTokens";
import type { JobStore, LeaseStore } from "../ports/jobStore";
import type { AnchorStore } from "../ports/anchorStore";
import type { MetricsStore } from "../ports/metricsStore";
import type { PepperSource, VersionedSecret } from "../ports/secrets";
import type { PolicySource } from "../ports/policySource";
import type { RateLimiter } from "../ports/rateLimiter";
import type { RefusalBudget } from "../ports/refusalBudget";
import type { RequestStore } from "../ports/requestStore";
import type { AuditContext, AuditStore, SaltStore, SettingsStore } from "../ports/saltStore";
import type { TaskQueue } from "../ports/taskQueue";
import type { EventRelay } from "./events/relay";

/**
 * Everything a use case may depend on, built by a composition root (app/) per
 * entry point. Each use case declares the part it uses with `Pick<Services, ...>`.
 */
export interface Services {
  readonly config: ServiceConfig;
  readonly clock: () => Date;
  readonly policy: PolicySource;
  readonly salts: SaltStore;
  readonly audit: AuditStore;
  /** Where the newest audit checkpoint is anchored outside the database (write-once), if anywhere. */
  readonly anchor: AnchorStore;
  readonly settings: SettingsStore;
  readonly cache: SaltCache;
  readonly pepper: PepperSource;
  /** The salt-encryption key ring (SALT_ENCRYPTION_KEY versions). */
  readonly keys: VersionedSecret;
  /** The key of the audit chains and of keyed id hashes in receipts. */
  readonly auditKey: VersionedSecret;
  readonly pseudonymizer: Pseudonymizer;
  /** Scopes (pairwise pseudonyms), their cache, and scoped and linked pseudonyms over the pseudonymizer. */
  readonly scopes: ScopeStore;
  readonly scopeCache: ScopeCache;
  readonly scoped: ScopedPseudonymizer;
  readonly jobs: JobStore;
  readonly requests: RequestStore;
  readonly leases: LeaseStore;
  readonly tasks: TaskQueue;
  readonly rateLimiter: RateLimiter;
  /** The denied-call audit budget: per caller first, then shared (edge/denied.ts). */
  readonly refusalBudget: RefusalBudget;
  /** Firebase Auth as it is now: revocation, disabled accounts, current roles. */
  readonly identity: IdentityProvider;
  /** Who signed an OIDC ID token (callers of salts-pseudonymizeBatch). */
  readonly idTokens: IdTokenVerifier;
  readonly metricsStore: MetricsStore;
  readonly metrics: MetricsRecorder;
  /** Dual control: pending and decided approvals, and the policy naming guarded operations. */
  readonly approvals: ApprovalStore;
  readonly approvalPolicy: ApprovalPolicySource;
  /** Firebase Auth accounts (role claims), and the index of who holds a role. */
  readonly accounts: AccountDirectory;
  readonly roles: RoleIndex;
  /** Publishes the events the outbox holds (after each call; the drain as backstop). */
  readonly events: EventRelay;
}

/** Who is calling and under which correlation id; every use case takes one. */
export interface CallContext {
  correlationId: string;
  actor: { uid: string; via: ActorVia };
  /** Present when the call carried a request_id: where its first answer is kept, and what it asked. */
  request?: { key: string; fingerprint: string };
  /** Present when a guarded request runs on approval: the actor asked, `approvedBy` approved. */
  approval?: { id: string; approvedBy: string };
}

export function auditContext(ctx: CallContext, operation: string, reason?: string): AuditContext {
  return {
    actor: ctx.actor,
    correlation_id: ctx.correlationId,
    operation,
    ...(reason !== undefined ? { reason } : {}),
    // A request run on approval names both admins in every entry it writes.
    ...(ctx.approval
      ? { details: { approval_id: ctx.approval.id, approved_by: ctx.approval.approvedBy } }
      : {}),
  };
}
