import { invalidArgument } from "./errors";
import { saltIdProblem } from "./ids";

/** The field of an event that names its data subject (whose erasure must reach the event's pseudonyms). */
export const SUBJECT_FIELD = "user_id";

/**
 * The subject an analytics event names in `user_id` (docs/CRYPTO.md, "Subject binding"): none when the
 * field is absent or null; a valid user id, or a finite number read as its digits (`String(n)`: the
 * subject `"42"` for `42`). Anything else is refused: an event whose `user_id` cannot be a subject would
 * otherwise be keyed by the global salt alone, out of reach of the subject's erasure, without a word.
 */
export function subjectOf(raw: unknown): string | null {
  if (raw === null || raw === undefined) return null;
  const id = typeof raw === "number" && Number.isFinite(raw) ? String(raw) : raw;
  const problem =
    typeof id === "string" ? saltIdProblem("user", id) : "must be a user id (a string, or a finite number)";
  if (problem !== null) {
    throw invalidArgument([
      { path: SUBJECT_FIELD, message: `${problem}, or null when the event names no subject` },
    ]);
  }
  return id as string;
}
