import type { AuditDraft, AuditEntry } from "../domain/audit";
import type { SaltKind } from "../domain/ids";
import type { Page } from "../domain/paging";
import type { RotationRequest, SkipReason } from "../domain/rotation";
import type { LoadedSalt, SaltRecord, SaltVersionInfo } from "../domain/salt";

export type StorageType = "firestore" | "memory";

/** Who asked and why; the store turns it into the audit entry it commits with the change. */
export type AuditContext = Pick<AuditDraft, "actor" | "correlation_id" | "reason" | "operation">;

export interface RotateRequest extends RotationRequest {
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
 * A salt as a listing saw it, with an adapter-private handle to the exact state
 * read. Lives only in the process that listed it; never serialized.
 */
export interface ListedSalt {
  record: SaltRecord;
  readonly handle: unknown;
}

export type RotateOutcome =
  | { status: "created" | "rotated"; record: SaltRecord; rotationId: string }
  | { status: "skipped"; reason: SkipReason; record: SaltRecord | null };

export interface EraseOutcome {
  erased: boolean;
  versionsDestroyed: number;
}

export interface PageRequest {
  limit: number;
  cursor?: string | null | undefined;
}

/** Reading salts: what pseudonymization, audits and status need. */
export interface SaltReader {
  readonly storageType: StorageType;
  get(kind: SaltKind, id: string): Promise<LoadedSalt | null>;
  /** A retained version (current or retired and not yet expired), or null. */
  getVersion(kind: SaltKind, id: string, version: number): Promise<Buffer | null>;
  history(kind: SaltKind, id: string): Promise<SaltVersionInfo[]>;
  count(kind: SaltKind): Promise<number>;
  countDue(kind: SaltKind): Promise<number>;
  /** Salts of a kind in document order, metadata only. */
  list(kind: SaltKind, page: PageRequest): Promise<Page<SaltRecord>>;
}

/** Changing salts. Every mutation commits its audit entry atomically with the change. */
export interface SaltWriter {
  /** Loads the salt, creating version 1 atomically if absent (one winner in a race). */
  getOrCreate(
    kind: SaltKind,
    id: string,
    audit?: AuditContext,
  ): Promise<{ loaded: LoadedSalt; created: boolean }>;
  rotate(kind: SaltKind, id: string, request: RotateRequest): Promise<RotateOutcome>;
  /** Up to MAX_BATCH_ROTATIONS rotations committed together (all or none); outcomes in order. */
  rotateMany(items: BatchRotateItem[]): Promise<RotateOutcome[]>;
  /**
   * Rotates salts exactly as listed, without reading them again: committed
   * together, and only if none changed since the listing; if one did, the items
   * are redone as rotateMany with their guards. Same outcomes as rotateMany.
   */
  rotateListed(items: { listed: ListedSalt; request: RotateRequest }[]): Promise<RotateOutcome[]>;
  /** Crypto-shreds the salt and every retained version. */
  erase(kind: SaltKind, id: string, rotationId: string, audit: AuditContext): Promise<EraseOutcome>;
}

/** Due salts for batch jobs, oldest rotation first, one bounded page at a time. */
export interface DueListing {
  listDue(kind: SaltKind, page: PageRequest): Promise<Page<SaltRecord>>;
  /** The same listing with handles for rotateListed. */
  listDueForRotation(kind: SaltKind, page: PageRequest): Promise<Page<ListedSalt>>;
}

/** One salt as the integrity sweep sees it. */
export interface ScannedSalt {
  record: SaltRecord;
  /** Whether the current ciphertext authenticates and decrypts under the key ring. */
  decrypts: boolean;
  /** `salt_hash_prefix` of version - 1 when that version is still retained, else null. */
  retainedPreviousHash: string | null;
}

/** What the integrity sweep reads and repairs. */
export interface SaltMaintenance {
  /** Every salt of a kind in document order, one bounded page at a time. */
  scan(kind: SaltKind, page: PageRequest): Promise<Page<ScannedSalt>>;
  /** Rewrites the stored `next_rotation` if the salt is still at `version`; true when it changed. */
  repairNextRotation(kind: SaltKind, id: string, version: number, next: Date): Promise<boolean>;
  /** Deletes retired versions whose retention has ended; returns how many. */
  purgeExpiredHistory(limit: number): Promise<number>;
}

/** Interval overrides an operator staged; they take effect only through an explicit reload. */
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

export interface SettingsStore {
  readSettings(): Promise<StoredSettings>;
  writePendingSettings(pending: PendingSettings, audit: AuditContext): Promise<void>;
  /** Puts intervals in force, atomically with the audit entry of the reload. */
  activateSettings(
    intervals: { user_days: number; global_days: number },
    audit: AuditContext,
  ): Promise<ActiveSettings>;
}

export interface AuditQuery {
  limit: number;
  cursor?: string | undefined;
  targetId?: string | undefined;
  operation?: string | undefined;
}

/** The append-only audit trail. */
export interface AuditStore {
  appendAudit(draft: AuditDraft): Promise<AuditEntry>;
  listAudit(query: AuditQuery): Promise<Page<AuditEntry>>;
}

/** Everything stored per salt, as one adapter implements it; use cases ask for the parts they use. */
export type SaltStore = SaltReader & SaltWriter & DueListing & SaltMaintenance;
