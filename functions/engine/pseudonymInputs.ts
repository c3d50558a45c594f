import { invalidArgument } from "../domain/errors";
import { saltIdProblem } from "../domain/ids";

export type RecordValue = unknown;
export type DataRecord = Record<string, RecordValue>;

/** An analytics event: its type picks the global salt; listed fields are pseudonymized. */
export interface AnalyticsEvent {
  event_type: string;
  [field: string]: RecordValue;
}

/** Fields of an analytics event pseudonymized when the caller lists none. */
export const DEFAULT_ANALYTICS_FIELDS: readonly string[] = [
  "user_id",
  "anonymous_id",
  "device_id",
  "email",
  "ip_address",
];

/** The field of an event that names its data subject (whose erasure must reach the event's pseudonyms). */
export const SUBJECT_FIELD = "user_id";

/**
 * What a pseudonym is checked against. For a global (event-type) pseudonym of an
 * event that named its subject, give that subject's `userId`.
 */
export type VerifyContext =
  | { kind: "user"; userId: string; field: string }
  | { kind: "global"; eventType: string; field: string; userId?: string };

export interface PseudonymizeResult<T> {
  data: T;
  saltVersion: number;
  pepperVersion: number;
}

export const wellFormed = (path: string, value: string): void => {
  if (!value.isWellFormed())
    throw invalidArgument([{ path, message: "must be well-formed Unicode (no lone surrogates)" }]);
};

export const notPseudonymizable = (path: string) =>
  invalidArgument([
    {
      path,
      message: "must be a string (well-formed Unicode), finite number, boolean or null to be pseudonymized",
    },
  ]);

/**
 * The user an analytics event names as its subject, whose erasure must reach the event's pseudonyms:
 * `user_id` when it is a valid uid, or a finite number (naming the same subject as its digits as a
 * string would); otherwise none, and the event's pseudonyms are bound to no one. A `user_id` that is
 * not well-formed Unicode is refused.
 */
export function subjectOf(event: AnalyticsEvent): string | null {
  const raw = event[SUBJECT_FIELD];
  if (typeof raw === "string") wellFormed(SUBJECT_FIELD, raw);
  const subject = typeof raw === "number" && Number.isFinite(raw) ? String(raw) : raw;
  return typeof subject === "string" && saltIdProblem("user", subject) === null ? subject : null;
}
