import { invalidArgument } from "../domain/errors";
import { assertSaltId, type SaltKind } from "../domain/ids";
import {
  deriveFieldKey,
  pseudonymPrefix,
  pseudonymWithPrefix,
  isPseudonymizable,
  parsePseudonym,
  pseudonymTag,
  tagsEqual,
  type PseudonymizableValue,
} from "../domain/pseudonym";
import type { LoadedSalt } from "../domain/salt";
import type { Pepper, PepperSource } from "../ports/pepperSource";
import type { SaltCache } from "./saltCache";

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

export type VerifyContext =
  { kind: "user"; userId: string; field: string } | { kind: "global"; eventType: string; field: string };

export interface PseudonymizeResult<T> {
  data: T;
  saltVersion: number;
  pepperVersion: number;
}

/**
 * Pseudonymization over the salt cache and a pepper source.
 *
 * Behaviour per listed field: a string, finite number or boolean becomes a
 * pseudonym; `null` stays `null` and an absent field stays absent (nothing to
 * hide, nothing invented); an object, array or other value is refused with
 * invalid-argument naming the field, since passing it through could leak an
 * identifier. Fields not listed pass through untouched.
 */
export class Pseudonymizer {
  // Derived keys hang off the salt buffer itself: an erased and recreated salt is a new
  // buffer, so a stale key can never be found, and entries go when the salt is dropped.
  private fieldKeys = new WeakMap<Buffer, Map<string, Buffer>>();

  constructor(
    private readonly salts: SaltCache,
    private readonly pepper: PepperSource,
  ) {}

  private fieldKey(kind: SaltKind, scope: string, field: string, salt: Buffer, pepper: Pepper): Buffer {
    let perSalt = this.fieldKeys.get(salt);
    if (!perSalt) {
      perSalt = new Map();
      this.fieldKeys.set(salt, perSalt);
    }
    const cacheKey = `${pepper.version}\u0000${field}`;
    let key = perSalt.get(cacheKey);
    if (!key) {
      key = deriveFieldKey(pepper.bytes, kind, scope, field, salt);
      perSalt.set(cacheKey, key);
    }
    return key;
  }

  private apply<T extends DataRecord>(
    kind: SaltKind,
    scope: string,
    record: T,
    fields: readonly string[],
    loaded: LoadedSalt,
    pepper: Pepper,
    pathPrefix: string,
  ): T {
    const saltVersion = loaded.record.version;
    const out: DataRecord = { ...record };
    for (const field of fields) {
      if (!Object.hasOwn(record, field)) continue;
      const value = record[field];
      if (value === null || value === undefined) continue;
      if (!isPseudonymizable(value)) {
        throw invalidArgument([
          {
            path: `${pathPrefix}${field}`,
            message: "must be a string, finite number, boolean or null to be pseudonymized",
          },
        ]);
      }
      const key = this.fieldKey(kind, scope, field, loaded.salt, pepper);
      out[field] = pseudonymWithPrefix(pseudonymPrefix(kind, saltVersion, pepper.version), key, value);
    }
    return out as T;
  }

  /** Pseudonymizes `fields` of one user's record with that user's salt (created on first use). */
  async pseudonymizeUserData<T extends DataRecord>(
    userId: string,
    record: T,
    fields: readonly string[],
  ): Promise<PseudonymizeResult<T>> {
    assertSaltId("user", userId);
    const pepper = await this.pepper.current();
    const loaded = await this.salts.current("user", userId, { create: true });
    return this.userResult(record, fields, loaded, pepper);
  }

  private userResult<T extends DataRecord>(
    record: T,
    fields: readonly string[],
    loaded: LoadedSalt,
    pepper: Pepper,
  ): PseudonymizeResult<T> {
    return {
      data: this.apply("user", "", record, fields, loaded, pepper, "data."),
      saltVersion: loaded.record.version,
      pepperVersion: pepper.version,
    };
  }

  /**
   * Pseudonymizes many values of one field of one user at once (column-wise),
   * with one salt lookup and one key derivation: the fast path for bulk data.
   * `null` stays `null`; other non-pseudonymizable values are refused.
   */
  async pseudonymizeValues(
    userId: string,
    field: string,
    values: readonly (PseudonymizableValue | null)[],
  ): Promise<{ pseudonyms: (string | null)[]; saltVersion: number; pepperVersion: number }> {
    assertSaltId("user", userId);
    const pepper = await this.pepper.current();
    const loaded = await this.salts.current("user", userId, { create: true });
    const key = this.fieldKey("user", "", field, loaded.salt, pepper);
    const version = loaded.record.version;
    const prefix = pseudonymPrefix("user", version, pepper.version);
    const pseudonyms = values.map((value, i) => {
      if (value === null) return null;
      if (!isPseudonymizable(value)) {
        throw invalidArgument([
          { path: `values.${i}`, message: "must be a string, finite number, boolean or null" },
        ]);
      }
      return pseudonymWithPrefix(prefix, key, value);
    });
    return { pseudonyms, saltVersion: version, pepperVersion: pepper.version };
  }

  /** Pseudonymizes an analytics event with the global salt of its event type. */
  async pseudonymizeAnalyticsData<T extends AnalyticsEvent>(
    event: T,
    fields: readonly string[] = DEFAULT_ANALYTICS_FIELDS,
  ): Promise<PseudonymizeResult<T>> {
    const eventType = assertSaltId("global", event.event_type);
    if (fields.includes("event_type")) {
      throw invalidArgument([
        { path: "fields", message: "event_type selects the salt and cannot be pseudonymized" },
      ]);
    }
    const pepper = await this.pepper.current();
    const loaded = await this.salts.current("global", eventType, { create: true });
    return {
      data: this.apply("global", eventType, event, fields, loaded, pepper, ""),
      saltVersion: loaded.record.version,
      pepperVersion: pepper.version,
    };
  }

  /**
   * True when `pseudonym` was made from `value` in `context`, under the current
   * or any retained salt version and any loadable pepper version. Compares in
   * constant time; never creates a salt.
   */
  async verifyPseudonym(
    value: PseudonymizableValue,
    pseudonym: string,
    context: VerifyContext,
  ): Promise<boolean> {
    if (!isPseudonymizable(value)) return false;
    let parsed;
    try {
      parsed = parsePseudonym(pseudonym);
    } catch {
      return false;
    }
    if (parsed.kind !== context.kind) return false;
    const id =
      context.kind === "user"
        ? assertSaltId("user", context.userId)
        : assertSaltId("global", context.eventType);
    const scope = context.kind === "user" ? "" : id;
    const salt = await this.salts.version(context.kind, id, parsed.saltVersion);
    if (!salt) return false;
    const pepper = await this.pepper.version(parsed.pepperVersion);
    const key = this.fieldKey(context.kind, scope, context.field, salt, pepper);
    return tagsEqual(pseudonymTag(key, value), parsed.tag);
  }

  /** Forget derived keys, e.g. after an erasure in this instance. */
  clear(): void {
    this.fieldKeys = new WeakMap();
  }
}
