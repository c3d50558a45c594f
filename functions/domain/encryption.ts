import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { hmacSha256 } from "./crypto";
import { failedPrecondition, SaltServiceError } from "./errors";

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SALT_CIPHER_ALG = "A256GCM";

/**
 * A salt (or shred secret) encrypted at rest. `key_version` is the version of the
 * SALT_ENCRYPTION_KEY secret that made it; `key_id` is derived from the key and
 * proves the version's bytes are the ones that made it, never reveals them.
 */
export interface EncryptedSalt {
  alg: typeof SALT_CIPHER_ALG;
  key_id: string;
  key_version: number;
  iv: Buffer;
  ct: Buffer;
  tag: Buffer;
  /** 2: the associated data binds the salt's incarnation; absent: written before it did (v1). */
  aad_version?: 2;
}

/** One version of the encryption key. */
export interface EncryptionKey {
  readonly version: number;
  readonly bytes: Buffer;
}

/** Where keys come from: the version that encrypts now, and any other version on demand. */
export interface KeyRing {
  current(): Promise<EncryptionKey>;
  /** Throws failed-precondition naming the version when it is disabled, destroyed or missing. */
  version(version: number): Promise<EncryptionKey>;
}

/**
 * Accepts a 32-byte key written as 64 hex chars or as (url-safe) base64; blanks
 * around it (the newline `openssl rand | gcloud secrets create` leaves) are ignored.
 * Errors name the secret, never echo its value.
 */
export function parseEncryptionKey(raw: string | undefined, secretName = "SALT_ENCRYPTION_KEY"): Buffer {
  const value = (raw ?? "").trim();
  if (value === "") throw failedPrecondition(`${secretName} is missing or empty`);
  const bytes = /^[0-9a-fA-F]{64}$/.test(value)
    ? Buffer.from(value, "hex")
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(value)
      ? Buffer.from(value, "base64")
      : Buffer.alloc(0);
  if (bytes.length !== KEY_BYTES) {
    throw failedPrecondition(`${secretName} must be ${KEY_BYTES} bytes, written as hex or base64`);
  }
  return bytes;
}

/** Derived from the key so it identifies it without revealing anything usable. */
export function keyIdOf(key: Buffer): string {
  return hmacSha256(key, "salt-service/key-id/v1").toString("hex").slice(0, 16);
}

export class SaltDecryptionError extends SaltServiceError {
  constructor(reason: string) {
    super("internal", `A stored salt could not be decrypted (${reason})`);
    this.name = "SaltDecryptionError";
  }
}

/**
 * A salt document whose incarnation was erased: a copy brought back after the
 * erasure. It is never used (nor are its retained versions).
 */
export const erasedIncarnation = (): SaltDecryptionError =>
  new SaltDecryptionError("it belongs to an erased incarnation: a copy restored after the erasure, refused");

/**
 * AES-256-GCM with associated data that binds a ciphertext to what it belongs to
 * (storage location, incarnation, version, purpose): copied to another document,
 * another incarnation of the same salt (one created after an erasure) or another
 * version, it fails authentication.
 */
export function sealSalt(key: EncryptionKey, salt: Buffer, aad: Aad): EncryptedSalt {
  if (key.bytes.length !== KEY_BYTES) throw failedPrecondition(`encryption keys must be ${KEY_BYTES} bytes`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key.bytes, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad.bound ?? aad.legacy, "utf8"));
  const ct = Buffer.concat([cipher.update(salt), cipher.final()]);
  const tag = cipher.getAuthTag();
  const enc: EncryptedSalt = {
    alg: SALT_CIPHER_ALG,
    key_id: keyIdOf(key.bytes),
    key_version: key.version,
    iv,
    ct,
    tag,
  };
  if (aad.bound !== null) enc.aad_version = 2;
  return enc;
}

/** Opens with the associated data the envelope says it was sealed with (a wrong claim fails authentication). */
export function openSalt(key: EncryptionKey, enc: EncryptedSalt, aad: Aad): Buffer {
  if (enc.alg !== SALT_CIPHER_ALG) throw new SaltDecryptionError("unknown algorithm");
  if (keyIdOf(key.bytes) !== enc.key_id) {
    throw new SaltDecryptionError(`key version ${enc.key_version} is not the key that encrypted it`);
  }
  if (enc.iv.length !== IV_BYTES || enc.tag.length !== TAG_BYTES) {
    throw new SaltDecryptionError("malformed envelope");
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.bytes, enc.iv, { authTagLength: TAG_BYTES });
    if (enc.aad_version === 2 && aad.bound === null) throw new Error("no incarnation to bind");
    decipher.setAAD(Buffer.from(enc.aad_version === 2 ? aad.bound! : aad.legacy, "utf8"));
    decipher.setAuthTag(enc.tag);
    return Buffer.concat([decipher.update(enc.ct), decipher.final()]);
  } catch {
    throw new SaltDecryptionError("authentication failed");
  }
}

/** Opens with the key version the ciphertext names, loading it if needed (failed-precondition when unusable). */
export async function openWith(keys: KeyRing, enc: EncryptedSalt, aad: Aad): Promise<Buffer> {
  return openSalt(await keys.version(enc.key_version || (await legacyKeyVersion(keys, enc))), enc, aad);
}

/**
 * Ciphertexts written before key versions were recorded name none (0): the
 * version is the one whose key id matches, searched from the current version down.
 */
export async function legacyKeyVersion(keys: KeyRing, enc: Pick<EncryptedSalt, "key_id">): Promise<number> {
  const current = await keys.current();
  for (let v = current.version; v >= Math.max(1, current.version - 20); v--) {
    const key = v === current.version ? current : await keys.version(v).catch(() => null);
    if (key && keyIdOf(key.bytes) === enc.key_id) return v;
  }
  throw failedPrecondition(
    "no enabled SALT_ENCRYPTION_KEY version matches a salt written before key versions were recorded",
  );
}

/**
 * Where a salt's ciphertexts belong: its storage location and its incarnation
 * (the random part of its audit chain id, new at each creation, so a salt
 * created again after an erasure is a different incarnation). `incarnation` is
 * null only for a salt written before incarnations existed.
 */
export interface SaltPlace {
  location: string;
  incarnation: string | null;
}

/**
 * The associated data of one ciphertext, in both forms: `bound` (v2, with the
 * incarnation) seals everything written now; `legacy` (v1) opens what earlier
 * releases wrote, which the sweep and rewrap re-seal as v2.
 */
export interface Aad {
  legacy: string;
  bound: string | null;
}

function aadOf(place: SaltPlace, part: string): Aad {
  return {
    legacy: `salt-service/v1|${place.location}|${part}`,
    bound:
      place.incarnation === null ? null : `salt-service/v2|${place.location}|${place.incarnation}|${part}`,
  };
}

/** The associated data of one salt version: one place decides the binding. */
export function saltAad(place: SaltPlace, version: number): Aad {
  return aadOf(place, `v${version}`);
}

/** The associated data of a user's shred secret (it outlives salt versions, so no version in it). */
export function shredAad(place: SaltPlace): Aad {
  return aadOf(place, "shred");
}

/** Whether a ciphertext must be sealed again to bind its incarnation (written before they were bound). */
export const needsBinding = (enc: EncryptedSalt, place: SaltPlace): boolean =>
  enc.aad_version !== 2 && place.incarnation !== null;
