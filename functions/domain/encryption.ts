import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { hmacSha256 } from "./crypto";
import { failedPrecondition, SaltServiceError } from "./errors";

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SALT_CIPHER_ALG = "A256GCM";

/** A salt encrypted at rest. `key_id` names the key, never reveals it. */
export interface EncryptedSalt {
  alg: typeof SALT_CIPHER_ALG;
  key_id: string;
  iv: Buffer;
  ct: Buffer;
  tag: Buffer;
}

interface Key {
  id: string;
  bytes: Buffer;
}

/**
 * Accepts a 32-byte key written as 64 hex chars or as (url-safe) base64.
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
 * AES-256-GCM for salts at rest. The associated data binds a ciphertext to the
 * salt it belongs to (storage path and version), so a ciphertext copied to
 * another document or version fails authentication. Older keys can be kept in
 * the ring for decryption while the current one encrypts.
 */
export class SaltCipher {
  private readonly current: Key;
  private readonly ring: Map<string, Buffer>;

  constructor(currentKey: Buffer, olderKeys: Buffer[] = []) {
    for (const k of [currentKey, ...olderKeys]) {
      if (k.length !== KEY_BYTES) throw failedPrecondition(`encryption keys must be ${KEY_BYTES} bytes`);
    }
    this.current = { id: keyIdOf(currentKey), bytes: Buffer.from(currentKey) };
    this.ring = new Map([currentKey, ...olderKeys].map((k) => [keyIdOf(k), Buffer.from(k)]));
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  encrypt(salt: Buffer, aad: string): EncryptedSalt {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.current.bytes, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, "utf8"));
    const ct = Buffer.concat([cipher.update(salt), cipher.final()]);
    return { alg: SALT_CIPHER_ALG, key_id: this.current.id, iv, ct, tag: cipher.getAuthTag() };
  }

  decrypt(enc: EncryptedSalt, aad: string): Buffer {
    if (enc.alg !== SALT_CIPHER_ALG) throw new SaltDecryptionError("unknown algorithm");
    const key = this.ring.get(enc.key_id);
    if (!key) throw new SaltDecryptionError("unknown key id");
    if (enc.iv.length !== IV_BYTES || enc.tag.length !== TAG_BYTES) {
      throw new SaltDecryptionError("malformed envelope");
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, enc.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, "utf8"));
      decipher.setAuthTag(enc.tag);
      return Buffer.concat([decipher.update(enc.ct), decipher.final()]);
    } catch {
      throw new SaltDecryptionError("authentication failed");
    }
  }
}

/** The associated data for one salt version: one place decides the binding. */
export function saltAad(location: string, version: number): string {
  return `salt-service/v1|${location}|v${version}`;
}
