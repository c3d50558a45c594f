import type { SaltRecord } from "./salt";

const HOUR_MS = 60 * 60 * 1000;

/**
 * Linking across a rotation, decided here: within `windowHours` after a user's salt last rotated, the
 * version before it may still be used to give the previous pseudonym beside the current one (so a
 * session that crosses the rotation can be stitched). Before the window ends, and only then: a salt
 * at version 1 (never rotated, or created again after an erasure) has no previous version.
 * Whether that version is still retained is the store's answer, not this rule's.
 */
export function linkableVersion(record: SaltRecord, now: Date, windowHours: number): number | null {
  if (record.version < 2 || record.rotation_count < 1) return null;
  const since = now.getTime() - record.last_rotated.getTime();
  // A rotation stamped a little ahead of this instance's clock was just made: inside the window.
  return since < windowHours * HOUR_MS ? record.version - 1 : null;
}

/** When the window of the salt's last rotation closes (null when it has no previous version). */
export function linkWindowEnd(record: SaltRecord, windowHours: number): Date | null {
  return record.version < 2 ? null : new Date(record.last_rotated.getTime() + windowHours * HOUR_MS);
}
