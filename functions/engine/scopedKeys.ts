import { invalidArgument } from "../domain/errors";
import type { SaltKind } from "../domain/ids";
import { isPseudonymizable, pseudonymPrefix, pseudonymWithPrefix, type FieldKey } from "../domain/pseudonym";
import { deriveScopeKey, scopedKey, scopedPrefix } from "../domain/scope";
import type { Pepper } from "../ports/secrets";
import type { DataRecord } from "./pseudonymizer";

/** One scope version's key under one pepper version. */
export interface ScopeKey {
  readonly bytes: Buffer;
  readonly id: string;
  readonly version: number;
  /** Pseudonym prefixes under this key, by salt kind and version (built once, not per call). */
  readonly prefixes: Map<number, string>;
}

export const malformed = (path: string) =>
  invalidArgument([{ path, message: "must be well-formed Unicode (no lone surrogates)" }]);

/**
 * The derived keys of scoped pseudonyms, cached as the Pseudonymizer caches field keys: a scope
 * version's key per pepper version (hung off the scope's secret), and a scoped key per (base key,
 * scope key), so each is made once and a scoped value then costs one tag like an unscoped one.
 */
export abstract class ScopedKeys {
  // Keys hang off the secret and key objects themselves, as the Pseudonymizer's do off salts.
  private scopeKeys = new WeakMap<Buffer, Map<number, ScopeKey>>();
  private scopedKeys = new WeakMap<FieldKey, WeakMap<ScopeKey, FieldKey>>();

  protected scopeKey(id: string, version: number, secret: Buffer, pepper: Pepper): ScopeKey {
    let perPepper = this.scopeKeys.get(secret);
    if (!perPepper) this.scopeKeys.set(secret, (perPepper = new Map()));
    let key = perPepper.get(pepper.version);
    if (!key) {
      key = { bytes: deriveScopeKey(pepper.bytes, id, version, secret), id, version, prefixes: new Map() };
      perPepper.set(pepper.version, key);
    }
    return key;
  }

  protected keyIn(base: FieldKey, scope: ScopeKey | null): FieldKey {
    if (!scope) return base;
    let perScope = this.scopedKeys.get(base);
    if (!perScope) this.scopedKeys.set(base, (perScope = new WeakMap()));
    let key = perScope.get(scope);
    if (!key) perScope.set(scope, (key = scopedKey(base, scope.bytes)));
    return key;
  }

  protected prefix(kind: SaltKind, scope: ScopeKey | null, saltVersion: number, pepperVersion: number) {
    if (!scope) return pseudonymPrefix(kind, saltVersion, pepperVersion);
    const slot = saltVersion * 2 + (kind === "user" ? 0 : 1);
    let prefix = scope.prefixes.get(slot);
    if (prefix === undefined)
      scope.prefixes.set(
        slot,
        (prefix = scopedPrefix(kind, scope.id, scope.version, saltVersion, pepperVersion)),
      );
    return prefix;
  }

  /** Each listed field through `keyOf`, with the Pseudonymizer's rules (null stays, others refused). */
  protected applyKeys<T extends DataRecord>(
    record: T,
    fields: readonly string[],
    keyOf: (field: string) => FieldKey,
    prefix: string,
    path: string,
  ): T {
    const out: DataRecord = { ...record };
    for (const field of fields) {
      if (!field.isWellFormed()) throw malformed("fields");
      const value = Object.hasOwn(record, field) ? record[field] : null;
      if (value === null || value === undefined) continue;
      if (!isPseudonymizable(value)) {
        const message =
          "must be a string (well-formed Unicode), finite number, boolean or null to be pseudonymized";
        throw invalidArgument([{ path: `${path}${field}`, message }]);
      }
      out[field] = pseudonymWithPrefix(prefix, keyOf(field), value);
    }
    return out as T;
  }

  /** Forget derived keys (after an erasure in this instance, as the Pseudonymizer does). */
  clear(): void {
    this.scopeKeys = new WeakMap();
    this.scopedKeys = new WeakMap();
  }
}
