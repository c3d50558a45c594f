/**
 * The pseudonymization library, for other functions in the same Firebase
 * project: `import { pseudonymizeUserData } from "salt-pepper-service/pseudonymize"`.
 * It uses the same salts (through the instance's salt cache) and pepper as the
 * admin functions; bind the secrets PSEUDONYM_PEPPER and SALT_ENCRYPTION_KEY to
 * the function that calls it.
 */
import { services } from "./app/instance";
import type { PseudonymizableValue } from "./domain/pseudonym";
import type { ScopeRecord } from "./domain/scope";
import type { AnalyticsEvent, DataRecord } from "./engine/pseudonymizer";
import type { ScopedVerifyContext } from "./engine/scopedPseudonymizer";

export { DEFAULT_ANALYTICS_FIELDS, Pseudonymizer } from "./engine/pseudonymizer";
export type { AnalyticsEvent, DataRecord, PseudonymizeResult, VerifyContext } from "./engine/pseudonymizer";
export type { ScopedVerifyContext } from "./engine/scopedPseudonymizer";
export { parsePseudonym, formatPseudonym } from "./domain/pseudonym";
export { parseScopedPseudonym } from "./domain/scope";
export { SaltServiceError } from "./domain/errors";

/** A salt created on first use is an event: published before the answer (nothing to do otherwise). */
function published<T>(value: T): T | Promise<T> {
  const events = services().events;
  return events.hasCommitted ? events.flush().then(() => value) : value;
}

/**
 * `scope`: the pairwise pseudonyms of that scope (salts-putScope). The library trusts its caller: a
 * function that answers consumers checks `authorizeScope(scope, consumer)` first.
 */
export interface ScopeOption {
  scope?: string;
}

/** Returns a copy of `record` with `fields` replaced by pseudonyms under the user's salt. */
export async function pseudonymizeUserData<T extends DataRecord>(
  userId: string,
  record: T,
  fields: readonly string[],
  options?: ScopeOption,
): Promise<T> {
  // Without options, straight to the unscoped path: it costs what it always cost.
  if (options?.scope === undefined)
    return published((await services().pseudonymizer.pseudonymizeUserData(userId, record, fields)).data);
  return published((await services().scoped.pseudonymizeUserData(userId, record, fields, options)).data);
}

/**
 * `with_previous`: as pseudonymizeUserData, and beside it each field's pseudonym under the user's
 * previous salt version, within LINK_WINDOW_HOURS of the user's last rotation and while that version
 * is retained (otherwise null; never for an erased user). Each call is counted
 * (`salt_link_previous_total`). See docs/CRYPTO.md, "Linking across a rotation".
 */
export async function pseudonymizeUserDataWithPrevious<T extends DataRecord>(
  userId: string,
  record: T,
  fields: readonly string[],
  options?: ScopeOption,
): Promise<{ data: T; previous: Record<string, string | null>; previousSaltVersion: number | null }> {
  const out = await services().scoped.pseudonymizeUserData(userId, record, fields, {
    scope: options?.scope,
    withPrevious: true,
  });
  return published({
    data: out.data,
    previous: out.previous ?? {},
    previousSaltVersion: out.previousVersion ?? null,
  });
}

/** Returns a copy of `event` with its identifying fields pseudonymized under its event type's salt. */
export async function pseudonymizeAnalyticsData<T extends AnalyticsEvent>(
  event: T,
  fields?: readonly string[],
  options?: ScopeOption,
): Promise<T> {
  if (options?.scope === undefined)
    return published((await services().pseudonymizer.pseudonymizeAnalyticsData(event, fields)).data);
  return published((await services().scoped.pseudonymizeAnalyticsData(event, fields, options)).data);
}

/** Pseudonyms for many values of one field of one user (one salt lookup): the bulk path. */
export async function pseudonymizeUserValues(
  userId: string,
  field: string,
  values: readonly (PseudonymizableValue | null)[],
  options?: ScopeOption,
): Promise<(string | null)[]> {
  return published((await services().scoped.pseudonymizeValues(userId, field, values, options)).pseudonyms);
}

/** The previous salt version's pseudonyms of many values (null outside the link window): the bulk `with_previous`. */
export async function previousUserValues(
  userId: string,
  field: string,
  values: readonly (PseudonymizableValue | null)[],
  options?: ScopeOption,
): Promise<(string | null)[]> {
  return (await services().scoped.previousValues(userId, field, values, options)).pseudonyms;
}

/**
 * Whether `pseudonym` was made from `value` in `context` under a retained salt and a loadable pepper.
 * A scoped pseudonym verifies only when `context.scope` names its scope (a retained version of it).
 */
export function verifyPseudonym(
  value: PseudonymizableValue,
  pseudonym: string,
  context: ScopedVerifyContext,
): Promise<boolean> {
  return services().scoped.verifyPseudonym(value, pseudonym, context);
}

/**
 * The grant check: resolves with the scope when `consumer` (a service-account email or a Firebase uid)
 * is among its consumers; rejects with `not-found` (no such scope) or `permission-denied`.
 */
export function authorizeScope(scopeId: string, consumer: string): Promise<ScopeRecord> {
  return services().scoped.authorizeScope(scopeId, consumer);
}
