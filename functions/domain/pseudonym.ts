import { createHmac, timingSafeEqual } from "node:crypto";
import { invalidArgument } from "./errors";
import type { SaltKind } from "./ids";

/**
 * The pseudonym format, decided here and nowhere else:
 *
 *   ps1.<u|g>.<salt_version>.<pepper_version>.<base64url(32-byte tag)>
 *
 *   field key = HMAC-SHA-256(pepper, "ps1" | kind | scope | field | salt)   (each part length-prefixed)
 *   tag       = HMAC-SHA-256(field key, type-tag | value)
 *
 * `scope` is empty for user salts and the event type for global salts, so the
 * same value yields unrelated pseudonyms for different users' fields, different
 * field names and different event types. The field key depends on the pepper
 * and the salt, and is derived once per (salt version, pepper version, field),
 * so pseudonymizing a value costs one HMAC.
 */
export const PSEUDONYM_PREFIX = "ps1";
const KIND_CODE: Record<SaltKind, "u" | "g"> = { user: "u", global: "g" };
const PSEUDONYM_PATTERN = /^ps1\.([ug])\.([1-9][0-9]{0,9})\.([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{43})$/;

export type PseudonymizableValue = string | number | boolean;

export interface ParsedPseudonym {
  kind: SaltKind;
  saltVersion: number;
  pepperVersion: number;
  tag: Buffer;
}

function lengthPrefixed(part: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(part.length);
  return Buffer.concat([len, part]);
}

export function deriveFieldKey(
  pepper: Buffer,
  kind: SaltKind,
  scope: string,
  field: string,
  salt: Buffer,
): Buffer {
  const mac = createHmac("sha256", pepper);
  for (const part of [PSEUDONYM_PREFIX, KIND_CODE[kind], scope, field])
    mac.update(lengthPrefixed(Buffer.from(part, "utf8")));
  mac.update(lengthPrefixed(salt));
  return mac.digest();
}

/** One byte of type so that 1, "1" and true never collide. */
function typeTag(value: PseudonymizableValue): string {
  switch (typeof value) {
    case "string":
      return "s";
    case "number":
      return "n";
    default:
      return "b";
  }
}

export function isPseudonymizable(value: unknown): value is PseudonymizableValue {
  return (
    (typeof value === "string" && value.isWellFormed()) ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

// Numbers are written in their shortest round-trip form, so 1 and 1.0 are one value.
const macOf = (fieldKey: Buffer, value: PseudonymizableValue) =>
  createHmac("sha256", fieldKey).update(typeTag(value) + String(value), "utf8");

export function pseudonymTag(fieldKey: Buffer, value: PseudonymizableValue): Buffer {
  return macOf(fieldKey, value).digest();
}

/** Everything before the tag: the same for every value under one salt and pepper version. */
export function pseudonymPrefix(kind: SaltKind, saltVersion: number, pepperVersion: number): string {
  return `${PSEUDONYM_PREFIX}.${KIND_CODE[kind]}.${saltVersion}.${pepperVersion}.`;
}

/** `prefix` + the tag in base64url, written straight from the MAC: the bulk path. */
export function pseudonymWithPrefix(prefix: string, fieldKey: Buffer, value: PseudonymizableValue): string {
  return prefix + macOf(fieldKey, value).digest("base64url");
}

export function formatPseudonym(
  kind: SaltKind,
  saltVersion: number,
  pepperVersion: number,
  tag: Buffer,
): string {
  return pseudonymPrefix(kind, saltVersion, pepperVersion) + tag.toString("base64url");
}

export function parsePseudonym(pseudonym: string, path = "pseudonym"): ParsedPseudonym {
  const m = PSEUDONYM_PATTERN.exec(pseudonym);
  const tag = m ? Buffer.from(m[4]!, "base64url") : null;
  // Only the canonical spelling: 43 base64url characters carry 2 spare bits, so 4 strings decode to one tag.
  if (!m || !tag || tag.toString("base64url") !== m[4]) {
    throw invalidArgument([{ path, message: "is not a ps1 pseudonym" }]);
  }
  return {
    kind: m[1] === "u" ? "user" : "global",
    saltVersion: Number(m[2]),
    pepperVersion: Number(m[3]),
    tag,
  };
}

/**
 * The key of one data subject's values under a global salt: the field key bound
 * to the user's shred secret. When the user is erased the shred secret is
 * destroyed, and with it every such key: none of those pseudonyms can be made again.
 */
export function subjectKey(fieldKey: Buffer, shred: Buffer): Buffer {
  const mac = createHmac("sha256", fieldKey);
  mac.update(lengthPrefixed(Buffer.from("ps1-subject", "utf8")));
  mac.update(lengthPrefixed(shred));
  return mac.digest();
}

export function tagsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
