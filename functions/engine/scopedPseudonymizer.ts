import { isSaltServiceError, SaltServiceError } from "../domain/errors";
import { assertSaltId } from "../domain/ids";
import { linkableVersion } from "../domain/linking";
import {
  isPseudonymizable,
  pseudonymWithPrefix,
  tagsEqual,
  type PseudonymizableValue,
} from "../domain/pseudonym";
import {
  assertScopeId,
  isConsumer,
  isScopedPseudonym,
  parseScopedPseudonym,
  type ScopeRecord,
} from "../domain/scope";
import type { LoadedSalt } from "../domain/salt";
import type { Pepper, PepperSource } from "../ports/secrets";
import { eventParts } from "./eventParts";
import {
  DEFAULT_ANALYTICS_FIELDS,
  type AnalyticsEvent,
  type DataRecord,
  type Pseudonymizer,
  type VerifyContext,
} from "./pseudonymizer";
import type { SaltCache } from "./saltCache";
import type { ScopeCache } from "./scopeCache";
import { malformed, ScopedKeys, type ScopeKey } from "./scopedKeys";
import type { OptionsResult, PseudonymOptions, ScopedOptions, ScopedVerifyContext } from "./scopedTypes";

export type { OptionsResult, PseudonymOptions, ScopedOptions, ScopedVerifyContext } from "./scopedTypes";

/**
 * Scoped pseudonyms and linking across a rotation, over the same salts, pepper and derived keys as
 * the Pseudonymizer (whose unscoped paths stay as they are: without options, calls go straight to
 * it). A scoped key is derived once per (user or subject key, scope version) and cached with both,
 * so after the first call a scoped value costs what an unscoped one does.
 */
export class ScopedPseudonymizer extends ScopedKeys {
  constructor(
    private readonly base: Pseudonymizer,
    private readonly salts: SaltCache,
    private readonly pepper: PepperSource,
    private readonly scopes: ScopeCache,
    private readonly options: ScopedOptions,
  ) {
    super();
  }

  /** The scope's current key, or null without a scope; not-found for an unknown one. */
  async scopeOf(scope: string | undefined, pepper: Pepper): Promise<ScopeKey | null> {
    if (scope === undefined) return null;
    const loaded = await this.scopes.load(assertScopeId(scope));
    return this.scopeKey(loaded.record.scope_id, loaded.record.version, loaded.secret, pepper);
  }

  /** The scope's key as of `at` (a query's pin) from a record read after `since`: see usecases/queryPin. */
  async scopeAsOf(
    scope: string,
    at: Date,
    since: number,
    pepper: Pepper,
    versionAt: (record: ScopeRecord) => Promise<number | null | undefined>,
  ): Promise<ScopeKey> {
    const loaded = await this.scopes.loadSince(assertScopeId(scope), since);
    const r = loaded.record;
    const then = await versionAt(r);
    const secret = typeof then === "number" ? await this.scopes.version(r.scope_id, then) : null;
    return secret && typeof then === "number"
      ? this.scopeKey(r.scope_id, then, secret, pepper)
      : this.scopeKey(r.scope_id, r.version, loaded.secret, pepper);
  }

  /** `pseudonymizeUserData` with a scope and/or the previous version's pseudonyms. */
  pseudonymizeUserData<T extends DataRecord>(
    userId: string,
    record: T,
    fields: readonly string[],
    options: PseudonymOptions = {},
  ): Promise<OptionsResult<T>> {
    if (options.scope === undefined && !options.withPrevious)
      return this.base.pseudonymizeUserData(userId, record, fields);
    try {
      // Warm pepper, scope and salt: no await, as on the unscoped hot path (only valid ids are cached).
      const pepper = options.withPrevious ? null : this.pepper.peek();
      const cached = pepper && options.scope !== undefined ? this.scopes.peek(options.scope) : null;
      const loaded = cached && typeof userId === "string" ? this.salts.peek("user", userId) : null;
      if (pepper && cached && loaded) {
        const scope = this.scopeKey(cached.record.scope_id, cached.record.version, cached.secret, pepper);
        return Promise.resolve(this.userResult(record, fields, loaded, pepper, scope));
      }
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return this.loadUser(userId, record, fields, options);
  }

  private userResult<T extends DataRecord>(
    record: T,
    fields: readonly string[],
    loaded: LoadedSalt,
    pepper: Pepper,
    scope: ScopeKey | null,
  ): OptionsResult<T> {
    const keyOf = (f: string) => this.keyIn(this.base.fieldKey("user", "", f, loaded.salt, pepper), scope);
    return {
      data: this.applyKeys(
        record,
        fields,
        keyOf,
        this.prefix("user", scope, loaded.record.version, pepper.version),
        "data.",
      ),
      saltVersion: loaded.record.version,
      pepperVersion: pepper.version,
      ...(scope ? { scope: { id: scope.id, version: scope.version } } : {}),
    };
  }

  private async loadUser<T extends DataRecord>(
    userId: string,
    record: T,
    fields: readonly string[],
    options: PseudonymOptions,
  ): Promise<OptionsResult<T>> {
    assertSaltId("user", userId);
    // The pepper, then the scope, then the salt: an unknown scope creates nothing.
    const pepper = await this.pepper.current();
    const scope = await this.scopeOf(options.scope, pepper);
    const loaded = await this.salts.current("user", userId, { create: true });
    const under = (salt: Buffer) => (f: string) =>
      this.keyIn(this.base.fieldKey("user", "", f, salt, pepper), scope);
    const out = this.userResult(record, fields, loaded, pepper, scope);
    if (!options.withPrevious) return out;
    const prev = await this.previousSalt(userId, loaded);
    out.previousVersion = prev?.version ?? null;
    const prevPrefix = prev ? this.prefix("user", scope, prev.version, pepper.version) : "";
    const previous: Record<string, string | null> = {};
    for (const field of fields) {
      if (!Object.hasOwn(record, field)) continue;
      const value = record[field];
      previous[field] =
        prev && value !== null && value !== undefined
          ? pseudonymWithPrefix(prevPrefix, under(prev.salt)(field), value as PseudonymizableValue)
          : null;
    }
    out.previous = previous;
    return out;
  }

  /** The retained salt before the current one, inside the link window only; each ask is counted. */
  async previousSalt(userId: string, loaded: LoadedSalt) {
    const version = linkableVersion(loaded.record, this.options.clock(), this.options.linkWindowHours());
    const salt = version === null ? null : await this.salts.version("user", userId, version);
    this.options.onLink?.(salt !== null);
    return salt && version !== null ? { version, salt } : null;
  }

  /** One value under a loaded salt, in `scope` when given: what a BigQuery batch's modes reply. */
  pseudonymUnder(scope: ScopeKey | null, ...args: Parameters<Pseudonymizer["pseudonymUnder"]>): string {
    if (!scope) return this.base.pseudonymUnder(...args);
    const [kind, eventType, field, loaded, pepper, shred, value] = args;
    const base = this.base.boundKey(this.base.fieldKey(kind, eventType, field, loaded.salt, pepper), shred);
    const prefix = this.prefix(kind, scope, loaded.record.version, pepper.version);
    return pseudonymWithPrefix(prefix, this.keyIn(base, scope), value);
  }

  /** `pseudonymizeAnalyticsData` within a scope (bound to the subject named in user_id, as unscoped). */
  async pseudonymizeAnalyticsData<T extends AnalyticsEvent>(
    event: T,
    fields: readonly string[] = DEFAULT_ANALYTICS_FIELDS,
    options: Pick<PseudonymOptions, "scope"> = {},
  ): Promise<OptionsResult<T>> {
    if (options.scope === undefined) return this.base.pseudonymizeAnalyticsData(event, fields);
    const { eventType, subjectId } = eventParts(event, fields);
    const pepper = await this.pepper.current();
    const scope = await this.scopeOf(options.scope, pepper);
    const [loaded, found] = await Promise.all([
      this.salts.current("global", eventType, { create: true }),
      subjectId === null ? null : this.salts.current("user", subjectId, { create: true }),
    ]);
    // As unscoped: a named subject's fields are bound to its shred secret, given one first if it has none.
    const user = found && subjectId !== null ? await this.salts.userWithShred(subjectId, found) : found;
    const keyOf = (f: string) =>
      this.keyIn(
        this.base.boundKey(
          this.base.fieldKey("global", eventType, f, loaded.salt, pepper),
          user?.shred ?? null,
        ),
        scope,
      );
    const prefix = this.prefix("global", scope, loaded.record.version, pepper.version);
    return {
      data: this.applyKeys(event, fields, keyOf, prefix, ""),
      saltVersion: loaded.record.version,
      pepperVersion: pepper.version,
      ...(scope ? { scope: { id: scope.id, version: scope.version } } : {}),
    };
  }

  /** Many values of one field of one user, optionally in a scope (the bulk path; one salt lookup). */
  async pseudonymizeValues(
    userId: string,
    field: string,
    values: readonly (PseudonymizableValue | null)[],
    options: Pick<PseudonymOptions, "scope"> = {},
  ): Promise<{ pseudonyms: (string | null)[]; saltVersion: number; pepperVersion: number }> {
    if (options.scope === undefined) return this.base.pseudonymizeValues(userId, field, values);
    const column = Object.fromEntries(values.map((v, i) => [String(i), v]));
    const out = await this.pseudonymizeUserData(userId, column, Object.keys(column), options);
    return {
      pseudonyms: values.map((_, i) => (out.data[String(i)] as string | null) ?? null),
      saltVersion: out.saltVersion,
      pepperVersion: out.pepperVersion,
    };
  }

  /**
   * The previous version's pseudonyms of many values of one user's field (BigQuery's `user_previous`):
   * all null outside the link window, for an unknown or erased user, or once that version is purged.
   * Never creates a salt.
   */
  async previousValues(
    userId: string,
    field: string,
    values: readonly (PseudonymizableValue | null)[],
    options: Pick<PseudonymOptions, "scope"> = {},
  ): Promise<{ pseudonyms: (string | null)[]; saltVersion: number | null }> {
    assertSaltId("user", userId);
    if (!field.isWellFormed()) throw malformed("field");
    const pepper = await this.pepper.current();
    const scope = await this.scopeOf(options.scope, pepper);
    const loaded = await this.salts.current("user", userId, { create: false }).catch((e: unknown) => {
      if (isSaltServiceError(e) && e.code === "not-found") return null;
      throw e;
    });
    const prev = loaded ? await this.previousSalt(userId, loaded) : null;
    if (!prev) return { pseudonyms: values.map(() => null), saltVersion: null };
    const key = this.keyIn(this.base.fieldKey("user", "", field, prev.salt, pepper), scope);
    const prefix = this.prefix("user", scope, prev.version, pepper.version);
    const column = Object.fromEntries(values.map((v, i) => [String(i), v]));
    const data = this.applyKeys(column, Object.keys(column), () => key, prefix, "values.");
    return {
      pseudonyms: values.map((_, i) => (data[String(i)] as string | null) ?? null),
      saltVersion: prev.version,
    };
  }

  /**
   * `verifyPseudonym` for every format: an unscoped pseudonym verifies only without `context.scope`; a
   * scoped one only when `context.scope` names its scope, under a retained version of that scope.
   */
  async verifyPseudonym(
    value: PseudonymizableValue,
    pseudonym: string,
    context: ScopedVerifyContext,
  ): Promise<boolean> {
    const { scope, ...plain } = context;
    if (typeof pseudonym !== "string" || !isScopedPseudonym(pseudonym))
      return scope === undefined && this.base.verifyPseudonym(value, pseudonym, plain as VerifyContext);
    if (typeof value === "string" && !value.isWellFormed()) throw malformed("value");
    if (!context.field.isWellFormed()) throw malformed("field");
    const parsed = parseScopedPseudonym(pseudonym);
    if (!parsed || !isPseudonymizable(value) || scope !== parsed.scopeId || parsed.kind !== context.kind)
      return false;
    const found = await this.base.verificationKey(
      plain as VerifyContext,
      parsed.saltVersion,
      parsed.pepperVersion,
    );
    if (!found) return false;
    const secret = await this.scopes.version(parsed.scopeId, parsed.scopeVersion);
    if (!secret) return false;
    const key = this.keyIn(
      found.key,
      this.scopeKey(parsed.scopeId, parsed.scopeVersion, secret, found.pepper),
    );
    return tagsEqual(key.tag(value), parsed.tag);
  }

  /**
   * The grant check every consumer-facing path runs before asking for a scope: `consumer` is a
   * service-account email (BigQuery, pipelines) or a Firebase uid. Unknown scope: not-found; not a
   * consumer: permission-denied. `fresh` reads storage now instead of the cache (admin paths).
   */
  async authorizeScope(
    scopeId: string,
    consumer: string,
    opts: { fresh?: boolean } = {},
  ): Promise<ScopeRecord> {
    const id = assertScopeId(scopeId);
    const loaded = opts.fresh ? await this.scopes.reload(id) : await this.scopes.load(id);
    if (!isConsumer(loaded.record, consumer))
      throw new SaltServiceError("permission-denied", `The caller is not a consumer of the scope "${id}"`);
    return loaded.record;
  }
}
