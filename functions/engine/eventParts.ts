import { invalidArgument } from "../domain/errors";
import { assertSaltId } from "../domain/ids";
import { SUBJECT_FIELD, subjectOf } from "../domain/subject";

export { SUBJECT_FIELD };

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
  // Absent or null names no one; anything but a user id (or a finite number, as its digits) is refused.
  const subjectId = subjectOf(event[SUBJECT_FIELD]);
  return { eventType, subjectId };
}
