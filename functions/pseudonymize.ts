/**
 * The pseudonymization library, for other functions in the same Firebase
 * project: `import { pseudonymizeUserData } from "salt-pepper-service/pseudonymize"`.
 * It uses the same salts (through the instance's salt cache) and pepper as the
 * admin functions; bind the secrets PSEUDONYM_PEPPER and SALT_ENCRYPTION_KEY to
 * the function that calls it.
 */
import { services } from "./app/instance";
import type { PseudonymizableValue } from "./domain/pseudonym";
import type { AnalyticsEvent, DataRecord, VerifyContext } from "./engine/pseudonymizer";

export { DEFAULT_ANALYTICS_FIELDS, Pseudonymizer } from "./engine/pseudonymizer";
export type { AnalyticsEvent, DataRecord, PseudonymizeResult, VerifyContext } from "./engine/pseudonymizer";
export { parsePseudonym, formatPseudonym } from "./domain/pseudonym";
export { SaltServiceError } from "./domain/errors";

/** A salt created on first use is an event: published before the answer (nothing to do otherwise). */
function published<T>(value: T): T | Promise<T> {
  const events = services().events;
  return events.hasCommitted ? events.flush().then(() => value) : value;
}

/** Returns a copy of `record` with `fields` replaced by pseudonyms under the user's salt. */
export async function pseudonymizeUserData<T extends DataRecord>(
  userId: string,
  record: T,
  fields: readonly string[],
): Promise<T> {
  return published((await services().pseudonymizer.pseudonymizeUserData(userId, record, fields)).data);
}

/** Returns a copy of `event` with its identifying fields pseudonymized under its event type's salt. */
export async function pseudonymizeAnalyticsData<T extends AnalyticsEvent>(
  event: T,
  fields?: readonly string[],
): Promise<T> {
  return published((await services().pseudonymizer.pseudonymizeAnalyticsData(event, fields)).data);
}

/** Pseudonyms for many values of one field of one user (one salt lookup): the bulk path. */
export async function pseudonymizeUserValues(
  userId: string,
  field: string,
  values: readonly (PseudonymizableValue | null)[],
): Promise<(string | null)[]> {
  return published((await services().pseudonymizer.pseudonymizeValues(userId, field, values)).pseudonyms);
}

/** Whether `pseudonym` was made from `value` in `context` under a retained salt and a loadable pepper. */
export function verifyPseudonym(
  value: PseudonymizableValue,
  pseudonym: string,
  context: VerifyContext,
): Promise<boolean> {
  return services().pseudonymizer.verifyPseudonym(value, pseudonym, context);
}
