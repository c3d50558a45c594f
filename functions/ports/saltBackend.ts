import type { AuditDraft, AuditEntry } from "../domain/audit";
import type { SaltKind } from "../domain/ids";
import type { RotationGuard, SkipReason } from "../domain/rotation";
import type { LoadedSalt, SaltRecord, SaltVersionInfo } from "../domain/salt";

export type StorageType = "firestore" | "memory";

/** Who asked and why; the backend turns it into the audit entry it commits with the change. */
export type AuditContext = Pick<AuditDraft, "actor" | "correlation_id" | "reason" | "operation">;

export interface RotateRequest extends RotationGuard {
  /** Create version 1 when the salt does not exist. */
  force?: boolean;
  rotationId: string;
  audit: AuditContext;
}

/** One rotation of a batch; each keeps its own guard, rotation id and audit entry. */
export interface BatchRotateItem {
  kind: SaltKind;
  id: string;
  request: RotateRequest;
}

/** Three writes per rotation (salt, retired version, audit entry) within Firestore's 500 per commit. */
export const MAX_BATCH_ROTATIONS = 150;

/**
 * A due salt as a listing saw it, with an adapter-private handle to the exact
 * state read. Lives only in the process that listed it; never serialized.
 */
export interface ListedSalt {
  record: SaltRecord;
  readonly handle: unknown;
}

export type RotateOutcome =
  | { status: "created" | "rotated"; record: SaltRecord; rotationId: string }
  | { status: "skipped"; reason: SkipReason; record: SaltRecord | null };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface EraseOutcome {
  erased: boolean;
  versionsDestroyed: number;
}

/** Interval overrides an operator staged (CLI); they take effect only through an explicit reload. */
export interface PendingSettings {
  user_days?: number | undefined;
  global_days?: number | undefined;
}

/** The intervals the last reload put in force for every instance. */
export interface ActiveSettings {
  user_days: number;
  global_days: number;
  reloaded_at: Date;
}

export interface StoredSettings {
  pending: PendingSettings | null;
  active: ActiveSettings | null;
}

/** One salt as the integrity sweep sees it. */
export interface ScannedSalt {
  record: SaltRecord;
  /** Whether the current ciphertext authenticates and decrypts under the key ring. */
  decrypts: boolean;
  /** `salt_hash_prefix` of version - 1 when that version is still retained, else null. */
  retainedPreviousHash: string | null;
}

export interface AuditQuery {
  limit: number;
  cursor?: string | undefined;
  targetId?: string | undefined;
  operation?: string | undefined;
}

/**
 * The storage port. Every mutation commits its audit entry atomically with the
 * change. Implementations encrypt salts at rest and never log or return them
 * except as `LoadedSalt` to the process that asked.
 */
export interface SaltBackend {
  readonly storageType: StorageType;

  get(kind: SaltKind, id: string): Promise<LoadedSalt | null>;
  /** Loads the salt, creating version 1 atomically if absent (one winner in a race). */
  getOrCreate(
    kind: SaltKind,
    id: string,
    audit?: AuditContext,
  ): Promise<{ loaded: LoadedSalt; created: boolean }>;
  /** A retained version (current or retired and not yet expired), or null. */
  getVersion(kind: SaltKind, id: string, version: number): Promise<Buffer | null>;
  rotate(kind: SaltKind, id: string, request: RotateRequest): Promise<RotateOutcome>;
  /**
   * Up to MAX_BATCH_ROTATIONS rotations committed together (all or none), each
   * with its audit entry; outcomes in the order of `items`. Batch jobs use it.
   */
  rotateMany(items: BatchRotateItem[]): Promise<RotateOutcome[]>;
  /** Due salts with handles for rotateListed, oldest rotation first, one bounded page at a time. */
  listDueForRotation(
    kind: SaltKind,
    page: { limit: number; cursor?: string | null },
  ): Promise<Page<ListedSalt>>;
  /**
   * Rotates salts exactly as listed, without reading them again: committed
   * together, and only if none changed since the listing; if one did, the items
   * are redone as rotateMany with their guards. Same outcomes as rotateMany.
   */
  rotateListed(items: { listed: ListedSalt; request: RotateRequest }[]): Promise<RotateOutcome[]>;
  history(kind: SaltKind, id: string): Promise<SaltVersionInfo[]>;
  /** Crypto-shreds the user's salt and every retained version. */
  erase(kind: SaltKind, id: string, rotationId: string, audit: AuditContext): Promise<EraseOutcome>;

  count(kind: SaltKind): Promise<number>;
  countDue(kind: SaltKind): Promise<number>;
  /** Due salts, oldest rotation first, one bounded page at a time. */
  listDue(kind: SaltKind, page: { limit: number; cursor?: string | null }): Promise<Page<SaltRecord>>;
  /** Every salt of a kind in document order, one bounded page at a time. */
  scan(kind: SaltKind, page: { limit: number; cursor?: string | null }): Promise<Page<ScannedSalt>>;
  /** Rewrites the stored `next_rotation` if the salt is still at `version`; true when it changed. */
  repairNextRotation(kind: SaltKind, id: string, version: number, next: Date): Promise<boolean>;
  /** Deletes retired versions whose retention has ended; returns how many. */
  purgeExpiredHistory(limit: number): Promise<number>;

  readSettings(): Promise<StoredSettings>;
  writePendingSettings(pending: PendingSettings, audit: AuditContext): Promise<void>;
  /** Puts intervals in force, atomically with the audit entry of the reload. */
  activateSettings(
    intervals: { user_days: number; global_days: number },
    audit: AuditContext,
  ): Promise<ActiveSettings>;

  appendAudit(draft: AuditDraft): Promise<AuditEntry>;
  listAudit(query: AuditQuery): Promise<Page<AuditEntry>>;
}
