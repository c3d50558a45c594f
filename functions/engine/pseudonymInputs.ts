import { invalidArgument } from "../domain/errors";

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

export { SUBJECT_FIELD, subjectOf } from "../domain/subject";

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
