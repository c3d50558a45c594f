import type { ActorVia } from "../domain/audit";
import type { ServiceConfig } from "../config/settings";
import type { SaltCache } from "../engine/saltCache";
import type { Pseudonymizer } from "../engine/pseudonymizer";
import type { ScopeCache } from "../engine/scopeCache";
import type { ScopedPseudonymizer } from "../engine/scopedPseudonymizer";
import type { ScopeStore } from "../ports/scopeStore";
import type { MetricsRecorder } from "../observability/metrics";
import type { IdentityProvider } from "../ports/identity";
import type { JobStore, LeaseStore } from "../ports/jobStore";
import type { MetricsStore } from "../ports/metricsStore";
import type { PepperSource, VersionedSecret } from "../ports/secrets";
import type { PolicySource } from "../ports/policySource";
import type { RateLimiter } from "../ports/rateLimiter";
import type { RequestStore } from "../ports/requestStore";
import type { AuditContext, AuditStore, SaltStore, SettingsStore } from "../ports/saltStore";
import type { TaskQueue } from "../ports/taskQueue";

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
  /** Firebase Auth as it is now: revocation, disabled accounts, current roles. */
  readonly identity: IdentityProvider;
  readonly metricsStore: MetricsStore;
  readonly metrics: MetricsRecorder;
}

/** Who is calling and under which correlation id; every use case takes one. */
export interface CallContext {
  correlationId: string;
  actor: { uid: string; via: ActorVia };
  /** Present when the call carried a request_id: where its first answer is kept, and what it asked. */
  request?: { key: string; fingerprint: string };
}

export function auditContext(ctx: CallContext, operation: string, reason?: string): AuditContext {
  return {
    actor: ctx.actor,
    correlation_id: ctx.correlationId,
    operation,
    ...(reason !== undefined ? { reason } : {}),
  };
}
