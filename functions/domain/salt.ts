import type { SaltKind } from "./ids";

/** Rotation metadata of one salt, as stored (times as Dates). Never holds salt bytes. */
export interface SaltRecord {
  readonly kind: SaltKind;
  readonly id: string;
  readonly version: number;
  readonly created_at: Date;
  readonly last_rotated: Date;
  readonly rotation_count: number;
  readonly next_rotation: Date;
  readonly previous_salt_hash: string | null;
  /** First 16 hex chars of SHA-256 of the current salt; becomes the next `previous_salt_hash`. */
  readonly salt_hash: string;
  /** The rotation that produced this version (null for a salt created on first use). */
  readonly last_rotation_id: string | null;
}

/** A record together with its decrypted salt: stays inside the process. */
export interface LoadedSalt {
  readonly record: SaltRecord;
  readonly salt: Buffer;
  /**
   * User salts only: the user's shred secret, which outlives rotations and dies
   * with an erase; it binds the user's identifiers pseudonymized under global salts.
   */
  readonly shred: Buffer | null;
}

/** The wire form of `SaltMetadata` in the API contract. */
export interface SaltMetadata {
  kind: SaltKind;
  id: string;
  version: number;
  created_at: string;
  last_rotated: string;
  rotation_count: number;
  next_rotation: string;
  previous_salt_hash: string | null;
  due: boolean;
}

/** A retired version kept for linkage until its retention ends. */
export interface SaltVersionInfo {
  version: number;
  created_at: Date;
  retired_at: Date;
  salt_hash_prefix: string;
}

/** When a retired version (of a salt or a scope) was current. */
export interface RetiredVersion {
  version: number;
  created_at: Date;
  retired_at: Date;
}

/**
 * The version that was current at `at` among `history` (retired versions, with when each was created
 * and retired), for something whose current version began at `currentSince` and which exists since
 * `createdAt`: null when that is the current version; `at` before the creation counts as the creation
 * (a salt first used by the query itself); undefined when the version then is no longer retained.
 */
export function versionAt(
  at: Date,
  createdAt: Date,
  currentSince: Date,
  history: () => Promise<readonly RetiredVersion[]>,
): null | Promise<number | undefined> {
  const t = Math.max(at.getTime(), createdAt.getTime());
  if (currentSince.getTime() <= t) return null;
  return history().then(
    (versions) => versions.find((v) => v.created_at.getTime() <= t && t < v.retired_at.getTime())?.version,
  );
}

/**
 * Wire metadata. `next_rotation` is the stored due date (the interval in force,
 * brought forward by the salt's jitter); the sweep keeps it in step with the intervals.
 */
export function toMetadata(record: SaltRecord, now: Date): SaltMetadata {
  return {
    kind: record.kind,
    id: record.id,
    version: record.version,
    created_at: record.created_at.toISOString(),
    last_rotated: record.last_rotated.toISOString(),
    rotation_count: record.rotation_count,
    next_rotation: record.next_rotation.toISOString(),
    previous_salt_hash: record.previous_salt_hash,
    due: record.next_rotation.getTime() <= now.getTime(),
  };
}
