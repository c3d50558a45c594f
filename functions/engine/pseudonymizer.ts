import { isSaltServiceError } from "../domain/errors";
import { assertSaltId, type SaltKind } from "../domain/ids";
import {
  deriveFieldKey,
  type FieldKey,
  isPseudonymizable,
  parsePseudonym,
  pseudonymPrefix,
  pseudonymTag,
  pseudonymWithPrefix,
  subjectKey,
  tagsEqual,
  type PseudonymizableValue,
} from "../domain/pseudonym";
import type { LoadedSalt } from "../domain/salt";
import type { Pepper, PepperSource } from "../ports/secrets";
import { eventParts } from "./eventParts";
import type { SaltCache } from "./saltCache";
import {
  notPseudonymizable,
  wellFormed,
  type AnalyticsEvent,
  type DataRecord,
  type PseudonymizeResult,
  DEFAULT_ANALYTICS_FIELDS,
  type VerifyContext,
} from "./pseudonymInputs";

export {
  DEFAULT_ANALYTICS_FIELDS,
  SUBJECT_FIELD,
  subjectOf,
  type AnalyticsEvent,
  type DataRecord,
  type PseudonymizeResult,
  type RecordValue,
  type VerifyContext,
} from "./pseudonymInputs";

/** What one salt derives under one pepper version: its field keys and the pseudonym prefix. */
interface Derived {
  keys: Map<string, FieldKey>;
  prefix: string | null;
}

/**
 * Pseudonymization over the salt cache and a pepper source. Per listed field: a string, finite number
 * or boolean becomes a pseudonym; `null` and absent stay so; anything else is refused (invalid-argument
 * naming the field: passing it through could leak an identifier). Fields not listed pass through. An
 * event naming its subject (`user_id`) has every field bound to that user's shred secret.
 */
export class Pseudonymizer {
  // Derived keys hang off the salt (and shred) buffers themselves: an erased and recreated salt is a
  // new buffer, so a stale key can never be found, and entries go when the salt is dropped. Per salt,
  // one entry per pepper version (a number: no key string is built on the hot path).
  private derived = new WeakMap<Buffer, Map<number, Derived>>();
  private subjectKeys = new WeakMap<FieldKey, WeakMap<Buffer, FieldKey>>();

  constructor(
    private readonly salts: SaltCache,
    private readonly pepper: PepperSource,
    private readonly options: { minPepperVersion?: number } = {},
  ) {}

  private derivedOf(salt: Buffer, pepper: Pepper): Derived {
    let perSalt = this.derived.get(salt);
    if (!perSalt) this.derived.set(salt, (perSalt = new Map()));
    let d = perSalt.get(pepper.version);
    if (!d) perSalt.set(pepper.version, (d = { keys: new Map(), prefix: null }));
    return d;
  }

  /** The derived key of a field under one salt buffer and pepper version (cached with the buffer). */
  fieldKey(kind: SaltKind, scope: string, field: string, salt: Buffer, pepper: Pepper): FieldKey {
    const keys = this.derivedOf(salt, pepper).keys;
    let key = keys.get(field);
    if (!key) keys.set(field, (key = deriveFieldKey(pepper.bytes, kind, scope, field, salt)));
    return key;
  }

  /** The field key bound to a subject's shred secret (unchanged without one), cached. */
  boundKey(fieldKey: FieldKey, shred: Buffer | null): FieldKey {
    if (!shred) return fieldKey;
    let perField = this.subjectKeys.get(fieldKey);
    if (!perField) this.subjectKeys.set(fieldKey, (perField = new WeakMap()));
    let key = perField.get(shred);
    if (!key) perField.set(shred, (key = subjectKey(fieldKey, shred)));
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
    shred: Buffer | null,
  ): T {
    const d = this.derivedOf(loaded.salt, pepper);
    const out: DataRecord = { ...record };
    for (const field of fields) {
      // A field with a derived key was checked when the key was made.
      if (!d.keys.has(field)) wellFormed("fields", field);
      if (!Object.hasOwn(record, field)) continue;
      const value = record[field];
      if (value === null || value === undefined) continue;
      if (!isPseudonymizable(value)) throw notPseudonymizable(`${pathPrefix}${field}`);
      out[field] = this.under(d, kind, scope, field, loaded, pepper, shred, value);
    }
    return out as T;
  }

  /**
   * The pseudonym of one value of `field` under a salt already loaded (bound to `shred` when given):
   * the computation behind every pseudonym made here, for callers that load their salts themselves
   * (a BigQuery batch: usecases/pseudonymizeBatch).
   */
  pseudonymUnder(
    kind: SaltKind,
    scope: string,
    field: string,
    loaded: LoadedSalt,
    pepper: Pepper,
    shred: Buffer | null,
    value: PseudonymizableValue,
  ): string {
    const d = this.derivedOf(loaded.salt, pepper);
    if (!d.keys.has(field)) wellFormed("fields", field);
    return this.under(d, kind, scope, field, loaded, pepper, shred, value);
  }

  private under(
    d: Derived,
    kind: SaltKind,
    scope: string,
    field: string,
    loaded: LoadedSalt,
    pepper: Pepper,
    shred: Buffer | null,
    value: PseudonymizableValue,
  ): string {
    const prefix = (d.prefix ??= pseudonymPrefix(kind, loaded.record.version, pepper.version));
    const key = d.keys.get(field) ?? this.fieldKey(kind, scope, field, loaded.salt, pepper);
    return pseudonymWithPrefix(prefix, this.boundKey(key, shred), value);
  }

  /** Pseudonymizes `fields` of one user's record with that user's salt (created on first use). */
  pseudonymizeUserData<T extends DataRecord>(
    userId: string,
    record: T,
    fields: readonly string[],
  ): Promise<PseudonymizeResult<T>> {
    try {
      // Warm salt and pepper: no await at all, the hot path of a per-event pipeline. Only valid ids
      // are ever loaded into the cache, so a cached salt needs no second look at its id.
      const pepper = this.pepper.peek();
      const loaded = pepper && typeof userId === "string" ? this.salts.peek("user", userId) : null;
      if (pepper && loaded) return Promise.resolve(this.userResult(record, fields, loaded, pepper));
      assertSaltId("user", userId);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return this.loadUser(userId).then(([p, l]) => this.userResult(record, fields, l, p));
  }

  /** The pepper first: without it nothing is pseudonymized, so no salt is created for nothing. */
  private async loadUser(userId: string): Promise<[Pepper, LoadedSalt]> {
    const pepper = await this.pepper.current();
    return [pepper, await this.salts.current("user", userId, { create: true })];
  }

  private userResult<T extends DataRecord>(
    record: T,
    fields: readonly string[],
    loaded: LoadedSalt,
    pepper: Pepper,
  ): PseudonymizeResult<T> {
    return {
      data: this.apply("user", "", record, fields, loaded, pepper, "data.", null),
      saltVersion: loaded.record.version,
      pepperVersion: pepper.version,
    };
  }

  /**
   * Pseudonymizes many values of one field of one user at once (column-wise),
   * with one salt lookup and one key derivation: the fast path for bulk data.
   */
  async pseudonymizeValues(
    userId: string,
    field: string,
    values: readonly (PseudonymizableValue | null)[],
  ): Promise<{ pseudonyms: (string | null)[]; saltVersion: number; pepperVersion: number }> {
    assertSaltId("user", userId);
    wellFormed("field", field);
    const [pepper, loaded] = await this.loadUser(userId);
    const key = this.fieldKey("user", "", field, loaded.salt, pepper);
    const version = loaded.record.version;
    const prefix = pseudonymPrefix("user", version, pepper.version);
    const pseudonyms = values.map((value, i) => {
      if (value === null) return null;
      if (!isPseudonymizable(value)) throw notPseudonymizable(`values.${i}`);
      return pseudonymWithPrefix(prefix, key, value);
    });
    return { pseudonyms, saltVersion: version, pepperVersion: pepper.version };
  }

  /** Pseudonymizes an analytics event with the global salt of its event type, bound to its subject. */
  async pseudonymizeAnalyticsData<T extends AnalyticsEvent>(
    event: T,
    fields: readonly string[] = DEFAULT_ANALYTICS_FIELDS,
  ): Promise<PseudonymizeResult<T>> {
    const { eventType, subjectId } = eventParts(event, fields);
    const pepper = await this.pepper.current();
    const [loaded, found] = await Promise.all([
      this.salts.current("global", eventType, { create: true }),
      subjectId === null ? null : this.salts.current("user", subjectId, { create: true }),
    ]);
    // A named subject's fields are always bound to its shred secret: never keyed by the global salt alone.
    const user = found && subjectId !== null ? await this.salts.userWithShred(subjectId, found) : found;
    return {
      data: this.apply("global", eventType, event, fields, loaded, pepper, "", user?.shred ?? null),
      saltVersion: loaded.record.version,
      pepperVersion: pepper.version,
    };
  }

  /**
   * True when `pseudonym` was made from `value` in `context`, under the current
   * or a retained salt version and a pepper version at or above the floor.
   * Compares in constant time; never creates a salt; an unknown pepper version,
   * an erased subject or a malformed pseudonym is simply false.
   */
  async verifyPseudonym(
    value: PseudonymizableValue,
    pseudonym: string,
    context: VerifyContext,
  ): Promise<boolean> {
    if (typeof value === "string") wellFormed("value", value);
    wellFormed("field", context.field);
    if (!isPseudonymizable(value)) return false;
    let parsed;
    try {
      parsed = parsePseudonym(pseudonym);
    } catch {
      return false;
    }
    if (parsed.kind !== context.kind) return false;
    const key = await this.verificationKey(context, parsed.saltVersion, parsed.pepperVersion);
    return key !== null && tagsEqual(pseudonymTag(key.key, value), parsed.tag);
  }

  /** The key (and pepper) a pseudonym of `context` under these versions was made with; null when it can no longer be. */
  async verificationKey(
    context: VerifyContext,
    saltVersion: number,
    pepperVersion: number,
  ): Promise<{ key: FieldKey; pepper: Pepper } | null> {
    if (pepperVersion < (this.options.minPepperVersion ?? 1)) return null;
    const id =
      context.kind === "user"
        ? assertSaltId("user", context.userId)
        : assertSaltId("global", context.eventType);
    const subject =
      context.kind === "global" && context.userId !== undefined ? assertSaltId("user", context.userId) : null;
    const salt = await this.salts.version(context.kind, id, saltVersion);
    if (!salt) return null;
    let shred: Buffer | null = null;
    if (subject !== null) {
      const user = await this.salts.current("user", subject, { create: false }).catch((e: unknown) => {
        if (isSaltServiceError(e) && e.code === "not-found") return null;
        throw e;
      });
      if (!user?.shred) return null;
      shred = user.shred;
    }
    let pepper: Pepper;
    try {
      pepper = await this.pepper.version(pepperVersion);
    } catch (e) {
      if (isSaltServiceError(e) && e.code === "failed-precondition") return null;
      throw e;
    }
    const key = this.boundKey(
      this.fieldKey(context.kind, context.kind === "user" ? "" : id, context.field, salt, pepper),
      shred,
    );
    return { key, pepper };
  }

  /** Forget derived keys, e.g. after an erasure in this instance. */
  clear(): void {
    this.derived = new WeakMap();
    this.subjectKeys = new WeakMap();
  }
}
