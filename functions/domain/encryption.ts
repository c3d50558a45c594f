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
 * AES-256-GCM with associated data that binds a ciphertext to what it belongs to
 * (storage location, version, purpose): copied to another document or version,
 * it fails authentication.
 */
export function sealSalt(key: EncryptionKey, salt: Buffer, aad: string): EncryptedSalt {
  if (key.bytes.length !== KEY_BYTES) throw failedPrecondition(`encryption keys must be ${KEY_BYTES} bytes`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key.bytes, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const ct = Buffer.concat([cipher.update(salt), cipher.final()]);
  const tag = cipher.getAuthTag();
  return { alg: SALT_CIPHER_ALG, key_id: keyIdOf(key.bytes), key_version: key.version, iv, ct, tag };
}

export function openSalt(key: EncryptionKey, enc: EncryptedSalt, aad: string): Buffer {
  if (enc.alg !== SALT_CIPHER_ALG) throw new SaltDecryptionError("unknown algorithm");
  if (keyIdOf(key.bytes) !== enc.key_id) {
    throw new SaltDecryptionError(`key version ${enc.key_version} is not the key that encrypted it`);
  }
  if (enc.iv.length !== IV_BYTES || enc.tag.length !== TAG_BYTES) {
    throw new SaltDecryptionError("malformed envelope");
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.bytes, enc.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(enc.tag);
    return Buffer.concat([decipher.update(enc.ct), decipher.final()]);
  } catch {
    throw new SaltDecryptionError("authentication failed");
  }
}

/** Opens with the key version the ciphertext names, loading it if needed (failed-precondition when unusable). */
export async function openWith(keys: KeyRing, enc: EncryptedSalt, aad: string): Promise<Buffer> {
  return openSalt(await keys.version(enc.key_version), enc, aad);
}

/** The associated data of one salt version: one place decides the binding. */
export function saltAad(location: string, version: number): string {
  return `salt-service/v1|${location}|v${version}`;
}

/** The associated data of a user's shred secret (it outlives salt versions, so no version in it). */
export function shredAad(location: string): string {
  return `salt-service/v1|${location}|shred`;
}
