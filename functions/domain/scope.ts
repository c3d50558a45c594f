import type { SaltPlace } from "./encryption";
import { createHmac } from "node:crypto";
import { generateSalt } from "./crypto";
import { invalidArgument } from "./errors";
import { encodeDocId, type SaltKind } from "./ids";
import { FieldKey, lengthPrefixed, PSEUDONYM_PREFIX } from "./pseudonym";

/**
 * Scopes (pairwise pseudonyms): a named audience whose pseudonyms cannot be joined with any other's.
 * This module decides the scope id, the grant rule, the scope's rotation and the scoped construction
 * and format (docs/CRYPTO.md, "Scoped pseudonyms"):
 *
 *   scope key  = HMAC-SHA-256(pepper, LP("ps1-scope") | LP(scope_id) | LP(scope_version) | LP(scope secret))
 *   scoped key = HMAC-SHA-256(base key, LP("ps1-scoped") | LP(scope key))
 *   pseudonym  = "ps1.s" kind "." scope_id "." scope_version "." salt_version "." pepper_version "." tag
 *
 * The base key is the unscoped key of the same value (the user's field key, or an event type's field
 * key bound to its subject), so a scoped pseudonym needs everything the unscoped one needs (erasing or
 * rotating the user reaches it) and the scope's secret of that version (rotating the scope changes it).
 */
export const SCOPE_ID_PATTERN = /^[a-z0-9_-]{1,40}$/;
const CONSUMER_MAX = 254;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u009f]/u;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Metadata of one scope, as stored (times as Dates). Never holds the scope's secret. */
export interface ScopeRecord {
  readonly scope_id: string;
  readonly description: string;
  readonly rotation_days: number;
  /** Service-account emails and Firebase uids allowed to ask for this scope's pseudonyms. */
  readonly consumers: readonly string[];
  readonly version: number;
  readonly created_at: Date;
  readonly last_rotated: Date;
  readonly rotation_count: number;
  readonly next_rotation: Date;
  readonly last_rotation_id: string | null;
}

/** A scope with the secret of its current version: stays inside the process. */
export interface LoadedScope {
  readonly record: ScopeRecord;
  readonly secret: Buffer;
}

/** What an admin sets with salts-putScope. */
export interface ScopeSpec {
  scope_id: string;
  description: string;
  rotation_days: number;
  consumers: string[];
}

/** The wire form (`salts-scopes`, `salts-putScope`). */
export interface ScopeMetadata {
  scope_id: string;
  description: string;
  rotation_days: number;
  version: number;
  created_at: string;
  last_rotated: string;
  rotation_count: number;
  next_rotation: string;
  due: boolean;
  consumers: string[];
}

export function scopeIdProblem(value: unknown): string | null {
  if (typeof value !== "string") return "must be a string";
  return SCOPE_ID_PATTERN.test(value) ? null : "must be 1 to 40 characters of [a-z0-9_-]";
}

export function assertScopeId(value: unknown, path = "scope"): string {
  const problem = scopeIdProblem(value);
  if (problem !== null) throw invalidArgument([{ path, message: problem }]);
  return value as string;
}

/** Why `value` cannot be a consumer (a service-account email or a Firebase uid), or null. */
export function consumerProblem(value: string): string | null {
  if (value.length === 0 || value.length > CONSUMER_MAX) return `must be 1 to ${CONSUMER_MAX} characters`;
  if (!value.isWellFormed()) return "must be well-formed Unicode (no lone surrogates)";
  if (CONTROL_OR_SPACE.test(value)) return "must not contain blanks or control characters";
  return null;
}

/**
 * The one grant rule: the identity is listed. Emails (service accounts) compare without case, as
 * Google treats them; anything else (a Firebase uid) compares exactly.
 */
export function isConsumer(scope: Pick<ScopeRecord, "consumers">, identity: string): boolean {
  const email = EMAIL.test(identity) ? identity.toLowerCase() : null;
  return scope.consumers.some((c) => c === identity || (email !== null && c.toLowerCase() === email));
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A scope rotates every `rotation_days` after its last rotation (no jitter: scopes are few). */
export const scopeNextRotation = (lastRotated: Date, rotationDays: number): Date =>
  new Date(lastRotated.getTime() + rotationDays * DAY_MS);

export const isScopeDue = (record: ScopeRecord, now: Date): boolean =>
  record.next_rotation.getTime() <= now.getTime();

/**
 * Storage-neutral place of a scope, bound into its secrets' ciphertexts as associated data. Scopes are
 * never erased, so they have no incarnation: their secrets are sealed in the v1 form (docs/CRYPTO.md).
 */
export const scopeLocation = (scopeId: string): SaltPlace => ({
  location: `salts_scopes/${encodeDocId(scopeId)}`,
  incarnation: null,
});

/** Version 1 of a new scope, with a fresh secret. */
export function planScopeCreate(spec: ScopeSpec, now: Date): { record: ScopeRecord; secret: Buffer } {
  return {
    secret: generateSalt(),
    record: {
      ...spec,
      consumers: [...new Set(spec.consumers)],
      version: 1,
      created_at: now,
      last_rotated: now,
      rotation_count: 0,
      next_rotation: scopeNextRotation(now, spec.rotation_days),
      last_rotation_id: null,
    },
  };
}

/** The same scope with new settings: its version, secret and last rotation stay. */
export function planScopeUpdate(current: ScopeRecord, spec: ScopeSpec): ScopeRecord {
  return {
    ...current,
    description: spec.description,
    rotation_days: spec.rotation_days,
    consumers: [...new Set(spec.consumers)],
    next_rotation: scopeNextRotation(current.last_rotated, spec.rotation_days),
  };
}

/** The next version with a fresh secret; the current one is retired for `retentionDays`. */
export function planScopeRotate(current: ScopeRecord, now: Date, retentionDays: number, rotationId: string) {
  return {
    secret: generateSalt(),
    record: {
      ...current,
      version: current.version + 1,
      last_rotated: now,
      rotation_count: current.rotation_count + 1,
      next_rotation: scopeNextRotation(now, current.rotation_days),
      last_rotation_id: rotationId,
    } satisfies ScopeRecord,
    retired: { version: current.version, created_at: current.last_rotated, retired_at: now },
    expiresAt: new Date(now.getTime() + retentionDays * DAY_MS),
  };
}

export function toScopeMetadata(record: ScopeRecord, now: Date): ScopeMetadata {
  return {
    scope_id: record.scope_id,
    description: record.description,
    rotation_days: record.rotation_days,
    version: record.version,
    created_at: record.created_at.toISOString(),
    last_rotated: record.last_rotated.toISOString(),
    rotation_count: record.rotation_count,
    next_rotation: record.next_rotation.toISOString(),
    due: isScopeDue(record, now),
    consumers: [...record.consumers],
  };
}

/** The key of one scope version under one pepper version (32 bytes). */
export function deriveScopeKey(
  pepper: Buffer,
  scopeId: string,
  scopeVersion: number,
  secret: Buffer,
): Buffer {
  const mac = createHmac("sha256", pepper);
  for (const part of ["ps1-scope", scopeId, String(scopeVersion)])
    mac.update(lengthPrefixed(Buffer.from(part, "utf8")));
  mac.update(lengthPrefixed(secret));
  return mac.digest();
}

/** The unscoped key of a value (user field key, or subject-bound event key) moved into one scope version. */
export function scopedKey(base: FieldKey, scopeKey: Buffer): FieldKey {
  const mac = createHmac("sha256", base.bytes);
  mac.update(lengthPrefixed(Buffer.from("ps1-scoped", "utf8")));
  mac.update(lengthPrefixed(scopeKey));
  return new FieldKey(mac.digest());
}

const KIND_CODE: Record<SaltKind, "su" | "sg"> = { user: "su", global: "sg" };
// The scope id has no "." (SCOPE_ID_PATTERN), so the seven parts are found without ambiguity; the
// kind codes "su"/"sg" never match an unscoped pseudonym's "u"/"g" (and vice versa).
const SCOPED_PATTERN =
  /^ps1\.(su|sg)\.([a-z0-9_-]{1,40})\.([1-9][0-9]{0,9})\.([1-9][0-9]{0,9})\.([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{43})$/;

export interface ParsedScopedPseudonym {
  kind: SaltKind;
  scopeId: string;
  scopeVersion: number;
  saltVersion: number;
  pepperVersion: number;
  tag: Buffer;
}

/** Everything before the tag of a scoped pseudonym. */
export function scopedPrefix(
  kind: SaltKind,
  scopeId: string,
  scopeVersion: number,
  saltVersion: number,
  pepperVersion: number,
): string {
  return `${PSEUDONYM_PREFIX}.${KIND_CODE[kind]}.${scopeId}.${scopeVersion}.${saltVersion}.${pepperVersion}.`;
}

export const isScopedPseudonym = (pseudonym: string): boolean =>
  pseudonym.startsWith("ps1.su.") || pseudonym.startsWith("ps1.sg.");

/** Parses a scoped pseudonym (canonical spelling only, like unscoped ones), or null. */
export function parseScopedPseudonym(pseudonym: string): ParsedScopedPseudonym | null {
  const m = SCOPED_PATTERN.exec(pseudonym);
  if (!m) return null;
  const tag = Buffer.from(m[6]!, "base64url");
  if (tag.toString("base64url") !== m[6]) return null;
  return {
    kind: m[1] === "su" ? "user" : "global",
    scopeId: m[2]!,
    scopeVersion: Number(m[3]),
    saltVersion: Number(m[4]),
    pepperVersion: Number(m[5]),
    tag,
  };
}
