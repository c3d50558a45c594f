import { invalidArgument } from "../domain/errors";
import { assertSaltId, saltIdProblem } from "../domain/ids";

/** The field of an event that names its data subject (whose erasure must reach the event's pseudonyms). */
export const SUBJECT_FIELD = "user_id";

/**
 * What an analytics event's pseudonyms depend on besides its values: the event type (its global salt)
 * and the subject it names, if any (whose shred secret binds them). One place for both pseudonymizers.
 */
export function eventParts(
  event: { event_type: unknown; [field: string]: unknown },
  fields: readonly string[],
): { eventType: string; subjectId: string | null } {
  const eventType = assertSaltId("global", event.event_type);
  if (fields.includes("event_type")) {
    throw invalidArgument([
      { path: "fields", message: "event_type selects the salt and cannot be pseudonymized" },
    ]);
  }
  const raw = event[SUBJECT_FIELD];
  if (typeof raw === "string" && !raw.isWellFormed())
    throw invalidArgument([
      { path: SUBJECT_FIELD, message: "must be well-formed Unicode (no lone surrogates)" },
    ]);
  // A numeric user id names its subject as well as the same digits as a string would.
  const subject = typeof raw === "number" && Number.isFinite(raw) ? String(raw) : raw;
  const subjectId = typeof subject === "string" && saltIdProblem("user", subject) === null ? subject : null;
  return { eventType, subjectId };
}
