import type { SaltKind } from "./ids";

const DAY_MS = 24 * 60 * 60 * 1000;

/** How often each kind of salt is rotated, in whole days. */
export interface RotationPolicy {
  readonly userDays: number;
  readonly globalDays: number;
}

export const DEFAULT_POLICY: RotationPolicy = { userDays: 90, globalDays: 30 };

export function intervalDays(policy: RotationPolicy, kind: SaltKind): number {
  return kind === "user" ? policy.userDays : policy.globalDays;
}

/** `last_rotated` + the interval for its kind: the one rotation rule. */
export function nextRotation(policy: RotationPolicy, kind: SaltKind, lastRotated: Date): Date {
  return new Date(lastRotated.getTime() + intervalDays(policy, kind) * DAY_MS);
}

/** A salt whose `last_rotated` is at or before this instant is due. */
export function dueCutoff(policy: RotationPolicy, kind: SaltKind, now: Date): Date {
  return new Date(now.getTime() - intervalDays(policy, kind) * DAY_MS);
}

export function isDue(policy: RotationPolicy, kind: SaltKind, lastRotated: Date, now: Date): boolean {
  return nextRotation(policy, kind, lastRotated).getTime() <= now.getTime();
}

export function retentionEnd(retiredAt: Date, retentionDays: number): Date {
  return new Date(retiredAt.getTime() + retentionDays * DAY_MS);
}
