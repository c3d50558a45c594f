import type { AuditDraft } from "../domain/audit";
import type { SealedHead } from "../domain/auditChain";
import type { SaltKind } from "../domain/ids";
import type { Page } from "../domain/paging";
import type { PageRequest } from "./auditStore";
import type { RotationRequest, SkipReason } from "../domain/rotation";
import type { LoadedSalt, SaltRecord, SaltVersionInfo } from "../domain/salt";

export type StorageType = "firestore" | "memory";

/** Who asked and why; the store turns it into the audit entry it commits with the change. */
export type AuditContext = Pick<AuditDraft, "actor" | "correlation_id" | "reason" | "operation" | "details">;

/**
 * A request id to commit with the change: a retry with the same key finds the
 * stored answer instead of acting again. `answer` builds what the caller was told.
 */
export interface IdempotencyRecord<O> {
  key: string;
  fingerprint: string;
  answer: (outcome: O) => unknown;
}

/** What a request id found: the first call's answer (and whether the request was the same). */
export interface Replayed {
  status: "replayed";
  answer: unknown;
  sameRequest: boolean;
}

export interface RotateRequest extends RotationRequest {
  audit: AuditContext;
  idempotency?: IdempotencyRecord<RotateOutcome>;
}

/** One rotation of a batch; each keeps its own guard, rotation id and audit entry. */
export interface BatchRotateItem {
  kind: SaltKind;
  id: string;
  request: RotateRequest;
}

/** How long a once-marker is kept: longer than any BigQuery query runs (6 hours). */
export const AUDIT_ONCE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Writes per rotation (salt, retired version, audit entry, outbox event): 125 fit Firestore's 500 per commit. */
export const MAX_BATCH_ROTATIONS = 125;

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
  | { status: "skipped"; reason: SkipReason; record: SaltRecord | null }
  | Replayed;

export type EraseOutcome = { status: "erased"; erased: boolean; versionsDestroyed: number } | Replayed;

export type { PageRequest } from "./auditStore";

/** Reading salts: what pseudonymization, audits and status need. */
export interface SaltReader {
  readonly storageType: StorageType;
  get(kind: SaltKind, id: string): Promise<LoadedSalt | null>;
  /** The current salts of `ids` (null where absent), in order, read together in one round trip. */
  getMany(kind: SaltKind, ids: readonly string[]): Promise<(LoadedSalt | null)[]>;
  /** Metadata only: nothing is decrypted. */
  record(kind: SaltKind, id: string): Promise<SaltRecord | null>;
  /** A retained version (current or retired and not yet expired), or null. */
  getVersion(kind: SaltKind, id: string, version: number): Promise<Buffer | null>;
  history(kind: SaltKind, id: string): Promise<SaltVersionInfo[]>;
  count(kind: SaltKind): Promise<number>;
  countDue(kind: SaltKind): Promise<number>;
  /** Salts whose stored due date falls in [from, to). */
  countDueBetween(kind: SaltKind, from: Date, to: Date): Promise<number>;
  /** Salts of a kind in document order, metadata only. */
  list(kind: SaltKind, page: PageRequest): Promise<Page<SaltRecord>>;
  /** Of `versions`, those some stored ciphertext (current, retained or shred) of this kind still needs. */
  keyVersionsInUse(kind: SaltKind, versions: number[]): Promise<number[]>;
}

/** Changing salts. Every mutation commits its audit entry atomically with the change. */
export interface SaltWriter {
  /** Loads the salt, creating version 1 atomically if absent (one winner in a race). */
  getOrCreate(
    kind: SaltKind,
    id: string,
    audit?: AuditContext,
  ): Promise<{ loaded: LoadedSalt; created: boolean }>;
  /**
   * getOrCreate for many salts of one kind at once: the absent ones are created in batched commits
   * whose every write is a create (a salt another caller created meanwhile is read, never replaced:
   * one salt per id whoever races), each with its audit entry when `audit` is given. Answers in
   * the order of `ids`.
   */
  getOrCreateMany(
    kind: SaltKind,
    ids: readonly string[],
    audit?: AuditContext,
  ): Promise<{ loaded: LoadedSalt; created: boolean }[]>;
  rotate(kind: SaltKind, id: string, request: RotateRequest): Promise<RotateOutcome>;
  /** Up to MAX_BATCH_ROTATIONS rotations committed together (all or none); outcomes in order. */
  rotateMany(items: BatchRotateItem[]): Promise<RotateOutcome[]>;
  /**
   * Rotates salts as listed, without reading them again: committed together, and
   * only if none changed since the listing; otherwise decided again on a fresh
   * read. Same outcomes as rotateMany.
   */
  rotateListed(items: { listed: ListedSalt; request: RotateRequest }[]): Promise<RotateOutcome[]>;
  /** Crypto-shreds the salt, every retained version and the shred secret. */
  erase(
    kind: SaltKind,
    id: string,
    rotationId: string,
    audit: AuditContext,
    idempotency?: IdempotencyRecord<EraseOutcome>,
  ): Promise<EraseOutcome>;
  /**
   * Re-encrypts every stored ciphertext of each salt (current, retained, shred)
   * under the current key version; bytes, versions and metadata do not change.
   * Each salt rewrapped commits with its audit entry; one already current is skipped.
   */
  rewrap(items: RewrapItem[]): Promise<RewrapOutcome[]>;
}

export interface RewrapItem {
  kind: SaltKind;
  id: string;
  /** Derived from (job, salt): a retry recognises its own earlier work by it. */
  rewrapId: string;
  audit: AuditContext;
}

/** Salts one rewrap commit re-encrypts (each: salt, retained versions, shred, entry). */
export const MAX_REWRAP_BATCH = 50;

export type RewrapOutcome =
  { status: "rewrapped"; from: number[]; to: number } | { status: "current" | "missing" };

/** Salts written under key versions older than `current`, for the rewrap job. */
export interface RewrapListing {
  countNeedingRewrap(kind: SaltKind, current: number): Promise<number>;
  listNeedingRewrap(kind: SaltKind, current: number, page: PageRequest): Promise<Page<SaltRecord>>;
}

/** Due salts for batch jobs, earliest due first: a bounded page at a time, or as a stream. */
export interface DueListing {
  listDue(kind: SaltKind, page: PageRequest): Promise<Page<SaltRecord>>;
  /**
   * The same order with handles for rotateListed, as a stream of at most `limit` salts read as the
   * consumer asks (memory stays bounded by what is buffered). Ending the iteration early stops the
   * listing, but a store that cannot cancel a query reads it to its end in the background, its items
   * discarded: `limit` bounds that too (inline jobs: at most ROTATE_INLINE_LIMIT).
   */
  dueForRotation(kind: SaltKind, limit: number): AsyncGenerator<ListedSalt>;
}

/** One salt as the integrity sweep sees it. */
export interface ScannedSalt {
  record: SaltRecord;
  /** Whether every stored ciphertext authenticates and decrypts under the key versions it names. */
  decrypts: boolean;
  /** Why not, when it does not (never bytes). */
  decryptProblem?: string;
  /** Key versions its ciphertexts use. */
  keyVersions: number[];
  /** `salt_hash_prefix` of version - 1 when that version is still retained, else null. */
  retainedPreviousHash: string | null;
  /** The salt's audit chain and its head. */
  chain: { id: string; head: SealedHead | null } | null;
  /** Written by an earlier release (no shard, key versions, chain or shred): the sweep upgrades it. */
  legacy: boolean;
}

/** What the integrity sweep reads and repairs. */
export interface SaltMaintenance {
  /** Every salt of a kind in document order, one bounded page at a time. */
  scan(kind: SaltKind, page: PageRequest): Promise<Page<ScannedSalt>>;
  /** Rewrites the stored `next_rotation` if the salt is still at `version`; true when it changed. */
  repairNextRotation(kind: SaltKind, id: string, version: number, next: Date): Promise<boolean>;
  /** Deletes retired versions whose retention has ended; returns how many. */
  purgeExpiredHistory(limit: number): Promise<number>;
  /** Brings a salt written by an earlier release up to this one; true when it changed. */
  upgradeLegacy(kind: SaltKind, id: string): Promise<boolean>;
  /** Gives older audit entries their index shard, a page at a time (`next` null when done). */
  backfillAuditShards(page: {
    limit: number;
    cursor: string | null;
  }): Promise<{ updated: number; next: string | null }>;
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

/** Where the sweep left off in its incremental checks, and what it last found. */
export type SweepState = Record<string, string | number | null>;

export interface SettingsStore {
  readSettings(): Promise<StoredSettings>;
  readSweepState(): Promise<SweepState>;
  writeSweepState(state: SweepState): Promise<void>;
  writePendingSettings(pending: PendingSettings, audit: AuditContext): Promise<void>;
  /** Puts intervals in force, atomically with the audit entry of the reload. */
  activateSettings(
    intervals: { user_days: number; global_days: number },
    audit: AuditContext,
  ): Promise<ActiveSettings>;
}

export {
  MALFORMED,
  type AuditQuery,
  type AuditStore,
  type ChainScanItem,
  type CheckpointStore,
  type HeadRecord,
  type StoredEntry,
} from "./auditStore";

/** Everything stored per salt, as one adapter implements it; use cases ask for the parts they use. */
export type SaltStore = SaltReader & SaltWriter & DueListing & RewrapListing & SaltMaintenance;
