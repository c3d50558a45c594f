import { createHash } from "node:crypto";
import { invalidArgument } from "./errors";

export type SaltKind = "user" | "global";
export const SALT_KINDS: readonly SaltKind[] = ["user", "global"];

const USER_ID_MAX = 128;
const EVENT_TYPE_PATTERN = /^[a-z0-9_.-]{1,64}$/;
// C0, DEL and C1 controls: invisible in logs and consoles, refused outright.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/u;

/** Returns why `value` is not a valid id of `kind`, or null when it is. */
export function saltIdProblem(kind: SaltKind, value: unknown): string | null {
  if (typeof value !== "string") return "must be a string";
  if (kind === "global") {
    return EVENT_TYPE_PATTERN.test(value) ? null : "must be 1 to 64 characters of [a-z0-9_.-]";
  }
  if (value.length === 0) return "must not be empty";
  if (!value.isWellFormed()) return "must be well-formed Unicode (no lone surrogates)";
  // Code points never outnumber UTF-16 units, so only long strings need counting.
  if (value.length > USER_ID_MAX && [...value].length > USER_ID_MAX) {
    return `must be at most ${USER_ID_MAX} characters`;
  }
  if (CONTROL_CHARS.test(value)) return "must not contain control characters";
  return null;
}

export const idFieldName = (kind: SaltKind): string => (kind === "user" ? "user_id" : "event_type");

/** Throws invalid-argument naming the field when `value` is not a valid id of `kind`. */
export function assertSaltId(kind: SaltKind, value: unknown): string {
  const problem = saltIdProblem(kind, value);
  if (problem !== null) throw invalidArgument([{ path: idFieldName(kind), message: problem }]);
  return value as string;
}

/**
 * The one mapping from an id to a Firestore document id. Base64url of the UTF-8
 * bytes is reversible and can never produce `.`, `..`, a `/` or the reserved
 * `__x__` form (UTF-8 never contains the 0xFF byte that `__` would need).
 */
export function encodeDocId(id: string): string {
  return Buffer.from(id, "utf8").toString("base64url");
}

/**
 * Index shards: documents carry `shard` (0..INDEX_SHARDS-1) beside each
 * time-ordered field a query needs, and the query asks for every shard at once,
 * so writes spread over INDEX_SHARDS index ranges instead of one hot tail
 * (Firestore's "sharded timestamps" pattern).
 */
export const INDEX_SHARDS = 16;
export const ALL_SHARDS: readonly number[] = Array.from({ length: INDEX_SHARDS }, (_, i) => i);

/** A salt's shard: stable (it never moves), and even across ids. */
export function indexShard(docId: string): number {
  return createHash("sha256").update(docId).digest()[0]! % INDEX_SHARDS;
}
