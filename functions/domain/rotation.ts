import { saltOfChain } from "./auditChain";
import { generateSalt, saltHashPrefix } from "./crypto";
import type { SaltPlace } from "./encryption";
import { notFound } from "./errors";
import { encodeDocId, type SaltKind } from "./ids";
import { nextRotation, retentionEnd, type RotationPolicy } from "./policy";
import type { SaltRecord, SaltVersionInfo } from "./salt";

/** Storage-neutral location of a salt; bound into its ciphertext as associated data. */
export function saltLocation(kind: SaltKind, id: string): string {
  return `salts_${kind}/${encodeDocId(id)}`;
}

/** Where a salt's ciphertexts belong: its location and the incarnation its chain id names (null: none yet). */
export function saltPlace(kind: SaltKind, id: string, chainId: string | null | undefined): SaltPlace {
  return {
    location: saltLocation(kind, id),
    incarnation: chainId ? (saltOfChain(chainId)?.incarnation ?? null) : null,
  };
}

export interface CreatePlan {
  record: SaltRecord;
  salt: Buffer;
  /** A user's shred secret, made with its first salt (null for global salts). */
  shred: Buffer | null;
}

export interface RotatePlan {
  record: SaltRecord;
  salt: Buffer;
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
    shred: kind === "user" ? generateSalt() : null,
    record: {
      kind,
      id,
      version: 1,
      created_at: now,
      last_rotated: now,
      rotation_count: 0,
      next_rotation: nextRotation(policy, kind, now, { id, version: 1 }),
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
  const version = current.version + 1;
  return {
    salt,
    record: {
      ...current,
      version,
      last_rotated: now,
      rotation_count: current.rotation_count + 1,
      next_rotation: nextRotation(policy, current.kind, now, { id: current.id, version }),
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
  /** Only if the stored due date has come (what the due listing selected on). */
  onlyIfDue?: boolean;
}

export function guardRejects(
  current: Pick<SaltRecord, "version" | "next_rotation">,
  guard: RotationGuard,
  now: Date,
): SkipReason | null {
  if (guard.ifVersion !== undefined && current.version !== guard.ifVersion) return "version-changed";
  if (guard.onlyIfDue && current.next_rotation.getTime() > now.getTime()) return "not-due";
  return null;
}

/** What a rotation request comes to, given the stored record (or its absence). */
export type RotationDecision =
  | { type: "skip"; reason: SkipReason }
  | { type: "create"; plan: CreatePlan }
  | { type: "rotate"; plan: RotatePlan };

export interface RotationRequest extends RotationGuard {
  /** Create version 1 when the salt does not exist. */
  force?: boolean;
  rotationId: string;
}

/**
 * The one rotation rule both backends apply inside their atomic step: a guarded
 * (batch) request skips what is missing, changed or not due; an unguarded one
 * rotates, or creates with `force`, or is not-found.
 */
export function decideRotation(
  kind: SaltKind,
  id: string,
  current: SaltRecord | null,
  request: RotationRequest,
  context: { now: Date; policy: RotationPolicy; retentionDays: number },
): RotationDecision {
  if (current === null) {
    if (request.ifVersion !== undefined || request.onlyIfDue) return { type: "skip", reason: "missing" };
    if (!request.force) throw notFound(`The ${kind} salt`);
    return { type: "create", plan: planCreate(kind, id, context.now, context.policy, request.rotationId) };
  }
  const reason = guardRejects(current, request, context.now);
  if (reason) return { type: "skip", reason };
  return {
    type: "rotate",
    plan: planRotate(current, context.now, context.policy, context.retentionDays, request.rotationId),
  };
}
