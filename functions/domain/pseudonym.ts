import { createHmac, hash, timingSafeEqual } from "node:crypto";
import { invalidArgument } from "./errors";
import type { SaltKind } from "./ids";

/**
 * The pseudonym format, decided here and nowhere else:
 *
 *   ps1.<u|g>.<salt_version>.<pepper_version>.<base64url(32-byte tag)>
 *
 *   field key = HMAC-SHA-256(pepper, "ps1" ‖ kind ‖ scope ‖ field ‖ salt)   (each part length-prefixed)
 *   tag       = HMAC-SHA-256(field key, type-tag ‖ value)
 *
 * Every byte (LP, UTF-8, the number text, base64url, versions, subject binding) is stated in
 * docs/CRYPTO.md, "The pseudonym, byte by byte", pinned by docs/pseudonym-vectors.json and recomputed
 * by docs/reference/pseudonym.py; a change here that moves any byte fails those tests.
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

export function lengthPrefixed(part: Buffer): Buffer {
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
): FieldKey {
  const mac = createHmac("sha256", pepper);
  for (const part of [PSEUDONYM_PREFIX, KIND_CODE[kind], scope, field])
    mac.update(lengthPrefixed(Buffer.from(part, "utf8")));
  mac.update(lengthPrefixed(salt));
  return new FieldKey(mac.digest());
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

// Shared scratch for the inner hash input (JavaScript runs one call at a time, and each call fills
// what it reads). Values up to FAST_UNITS UTF-16 units fit (3 UTF-8 bytes per unit at most).
const FAST_UNITS = 1024;
const INNER = Buffer.allocUnsafeSlow(64 + 1 + 3 * FAST_UNITS);
// Views of INNER's first n bytes, made once per length (a view per call would be an allocation per value).
const VIEWS: Buffer[] = [];
const innerView = (n: number): Buffer => (VIEWS[n] ??= INNER.subarray(0, n));

/**
 * A 32-byte field key with its HMAC-SHA-256 pads made once (RFC 2104: H(K^opad | H(K^ipad | m))), so a
 * tag costs two one-shot SHA-256 hashes and no HMAC object; long values go through createHmac. Both
 * give the same bytes (tested against createHmac over random keys and values).
 */
export class FieldKey {
  // [K^ipad (64) | K^opad (64) | room for the inner hash (32)]: the outer input is the last 96 bytes.
  private readonly pads = Buffer.alloc(160);
  private readonly ipad = this.pads.subarray(0, 64);
  private readonly outer = this.pads.subarray(64, 160);

  constructor(readonly bytes: Buffer) {
    if (bytes.length !== 32) throw new Error("a field key is 32 bytes");
    this.pads.fill(0x36, 0, 64).fill(0x5c, 64, 128);
    for (let i = 0; i < 32; i++) {
      this.pads[i]! ^= bytes[i]!;
      this.pads[64 + i]! ^= bytes[i]!;
    }
  }

  /** The tag of `value` (type tag, then the value; numbers in their shortest round-trip form). */
  tag(value: PseudonymizableValue): Buffer {
    return this.mac(value, "buffer");
  }

  tagBase64url(value: PseudonymizableValue): string {
    return this.mac(value, "base64url");
  }

  private mac<E extends "buffer" | "base64url">(
    value: PseudonymizableValue,
    enc: E,
  ): E extends "buffer" ? Buffer : string;
  private mac(value: PseudonymizableValue, enc: "buffer" | "base64url"): Buffer | string {
    const text = typeof value === "string" ? value : String(value);
    if (text.length > FAST_UNITS) {
      const mac = createHmac("sha256", this.bytes).update(typeTag(value) + text, "utf8");
      return enc === "buffer" ? mac.digest() : mac.digest("base64url");
    }
    INNER.set(this.ipad, 0);
    INNER[64] = typeTag(value).charCodeAt(0);
    const n = INNER.write(text, 65, "utf8");
    this.outer.set(hash("sha256", innerView(65 + n), "buffer"), 64);
    return hash("sha256", this.outer, enc);
  }
}

export function pseudonymTag(fieldKey: FieldKey, value: PseudonymizableValue): Buffer {
  return fieldKey.tag(value);
}

/** Everything before the tag: the same for every value under one salt and pepper version. */
export function pseudonymPrefix(kind: SaltKind, saltVersion: number, pepperVersion: number): string {
  return `${PSEUDONYM_PREFIX}.${KIND_CODE[kind]}.${saltVersion}.${pepperVersion}.`;
}

/** `prefix` + the tag in base64url, written straight from the MAC: the bulk path. */
export function pseudonymWithPrefix(prefix: string, fieldKey: FieldKey, value: PseudonymizableValue): string {
  return prefix + fieldKey.tagBase64url(value);
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
export function subjectKey(fieldKey: FieldKey, shred: Buffer): FieldKey {
  const mac = createHmac("sha256", fieldKey.bytes);
  mac.update(lengthPrefixed(Buffer.from("ps1-subject", "utf8")));
  mac.update(lengthPrefixed(shred));
  return new FieldKey(mac.digest());
}

export function tagsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
