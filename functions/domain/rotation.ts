import { generateSalt, saltHashPrefix } from "./crypto";
import { encodeDocId, type SaltKind } from "./ids";
import { isDue, nextRotation, retentionEnd, type RotationPolicy } from "./policy";
import type { SaltRecord, SaltVersionInfo } from "./salt";

/** Storage-neutral location of a salt; bound into its ciphertext as associated data. */
export function saltLocation(kind: SaltKind, id: string): string {
  return `salts_${kind}/${encodeDocId(id)}`;
}

export interface CreatePlan {
  record: SaltRecord;
  salt: Buffer;
}

export interface RotatePlan extends CreatePlan {
  retired: SaltVersionInfo;
  retiredExpiresAt: Date;
}

/** Version 1 of a new salt: creation is the rotation baseline. */
export function planCreate(
  kind: SaltKind,
  id: string,
  now: Date,
  policy: RotationPolicy,
  rotationId: string | null = null,
): CreatePlan {
  const salt = generateSalt();
  return {
    salt,
    record: {
      kind,
      id,
      version: 1,
      created_at: now,
      last_rotated: now,
      rotation_count: 0,
      next_rotation: nextRotation(policy, kind, now),
      previous_salt_hash: null,
      salt_hash: saltHashPrefix(salt),
      last_rotation_id: rotationId,
    },
  };
}

/** The next version: the current one is retired into history for `retentionDays`. */
export function planRotate(
  current: SaltRecord,
  now: Date,
  policy: RotationPolicy,
  retentionDays: number,
  rotationId: string,
): RotatePlan {
  const salt = generateSalt();
  return {
    salt,
    record: {
      ...current,
      version: current.version + 1,
      last_rotated: now,
      rotation_count: current.rotation_count + 1,
      next_rotation: nextRotation(policy, current.kind, now),
      previous_salt_hash: current.salt_hash,
      salt_hash: saltHashPrefix(salt),
      last_rotation_id: rotationId,
    },
    retired: {
      version: current.version,
      created_at: current.last_rotated,
      retired_at: now,
      salt_hash_prefix: current.salt_hash,
    },
    retiredExpiresAt: retentionEnd(now, retentionDays),
  };
}

export type SkipReason = "missing" | "not-due" | "version-changed";

/** Conditions a batch job puts on a rotation so that retries never double-rotate. */
export interface RotationGuard {
  ifVersion?: number;
  onlyIfDue?: boolean;
}

export function guardRejects(
  current: SaltRecord,
  guard: RotationGuard,
  policy: RotationPolicy,
  now: Date,
): SkipReason | null {
  if (guard.ifVersion !== undefined && current.version !== guard.ifVersion) return "version-changed";
  if (guard.onlyIfDue && !isDue(policy, current.kind, current.last_rotated, now)) return "not-due";
  return null;
}
