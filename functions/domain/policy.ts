import { createHash } from "node:crypto";
import type { SaltKind } from "./ids";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How often each kind of salt is rotated, in whole days, and how much earlier
 * than that a salt may come due (`jitter`, a fraction of the interval), so that
 * salts created together do not come due together.
 */
export interface RotationPolicy {
  readonly userDays: number;
  readonly globalDays: number;
  readonly jitter: number;
}

export const DEFAULT_POLICY: RotationPolicy = { userDays: 90, globalDays: 30, jitter: 0 };

export function intervalDays(policy: RotationPolicy, kind: SaltKind): number {
  return kind === "user" ? policy.userDays : policy.globalDays;
}

/** Where in [0, 1) this salt version falls within the jitter window: stable, and spread evenly. */
export function jitterPoint(kind: SaltKind, id: string, version: number): number {
  const h = createHash("sha256").update(`salt-service/jitter/v1\0${kind}\0${id}\0${version}`).digest();
  return h.readUInt32BE(0) / 0x1_0000_0000;
}

/**
 * The one rotation rule: `last_rotated` + the interval for its kind, brought
 * forward by up to `jitter` of the interval (never later than the interval).
 */
export function nextRotation(
  policy: RotationPolicy,
  kind: SaltKind,
  lastRotated: Date,
  salt: { id: string; version: number },
): Date {
  const interval = intervalDays(policy, kind) * DAY_MS;
  const early =
    policy.jitter > 0 ? Math.floor(interval * policy.jitter * jitterPoint(kind, salt.id, salt.version)) : 0;
  return new Date(lastRotated.getTime() + interval - early);
}

export function isDue(
  policy: RotationPolicy,
  kind: SaltKind,
  lastRotated: Date,
  salt: { id: string; version: number },
  now: Date,
): boolean {
  return nextRotation(policy, kind, lastRotated, salt).getTime() <= now.getTime();
}

export function retentionEnd(retiredAt: Date, retentionDays: number): Date {
  return new Date(retiredAt.getTime() + retentionDays * DAY_MS);
}
