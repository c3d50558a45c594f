import type { Page } from "../domain/paging";
import type { SkipReason } from "../domain/rotation";
import type { LoadedScope, ScopeRecord, ScopeSpec } from "../domain/scope";
import type { AuditContext, IdempotencyRecord, PageRequest, Replayed } from "./saltStore";

export type PutScopeOutcome = { status: "created" | "updated"; record: ScopeRecord } | Replayed;

export type RotateScopeOutcome =
  | { status: "rotated"; record: ScopeRecord; rotationId: string }
  | { status: "skipped"; reason: SkipReason; record: ScopeRecord | null }
  | Replayed;

/** A scope rotation: unguarded (salts-rotateScope, not-found when missing) or guarded (a job). */
export interface RotateScopeRequest {
  rotationId: string;
  /** Only if the scope is still at this version (a job's guard). */
  ifVersion?: number;
  /** Only if it is due (what the job's listing selected on). */
  onlyIfDue?: boolean;
  audit: AuditContext;
  idempotency?: IdempotencyRecord<RotateScopeOutcome>;
}

/** A retired scope version, kept (with its secret) for SALT_HISTORY_RETENTION_DAYS like a salt's. */
export interface ScopeVersionInfo {
  version: number;
  created_at: Date;
  retired_at: Date;
}

/**
 * Scopes and their secrets (one random secret per scope version, encrypted at rest like salts).
 * Every change commits with its audit entry (target `{kind: "scope", id}`) and, with a request id,
 * the id's first answer. Scopes are few (tens to thousands): listings read them in id order.
 */
export interface ScopeStore {
  /** Creates (version 1, a fresh secret) or updates description, interval and consumers. */
  putScope(
    spec: ScopeSpec,
    audit: AuditContext,
    idempotency?: IdempotencyRecord<PutScopeOutcome>,
  ): Promise<PutScopeOutcome>;
  /** Metadata only: nothing is decrypted. */
  scope(scopeId: string): Promise<ScopeRecord | null>;
  /** The scope with its current secret, or null. */
  loadScope(scopeId: string): Promise<LoadedScope | null>;
  /** The secret of a version (current, or retired and still retained), or null. */
  scopeSecret(scopeId: string, version: number): Promise<Buffer | null>;
  scopeHistory(scopeId: string): Promise<ScopeVersionInfo[]>;
  listScopes(page: PageRequest): Promise<Page<ScopeRecord>>;
  rotateScope(scopeId: string, request: RotateScopeRequest): Promise<RotateScopeOutcome>;
  /** Scopes whose `next_rotation` has come, in id order, a page at a time. */
  listDueScopes(page: PageRequest): Promise<Page<ScopeRecord>>;
  countDueScopes(): Promise<number>;
  /** Of `versions`, those some scope's stored secret (current or retained) still needs. */
  keyVersionsInUse(versions: number[]): Promise<number[]>;
  /**
   * Re-encrypts every scope secret (current and retained) not under the current key version; bytes and
   * versions do not change, so pseudonyms do not. One audit entry per scope rewrapped; returns how many.
   */
  rewrapScopes(audit: AuditContext): Promise<number>;
}
