import { createHash, createHmac, randomBytes } from "node:crypto";

export const SALT_BYTES = 32;

/** 32 bytes from the operating system's CSPRNG. */
export function generateSalt(): Buffer {
  return randomBytes(SALT_BYTES);
}

/** First 16 hex chars of SHA-256 of a salt: the contract's `previous_salt_hash`. */
export function saltHashPrefix(salt: Buffer): string {
  return createHash("sha256").update(salt).digest("hex").slice(0, 16);
}

/** SHA-256 of an id under this service's domain: the short handle logs carry (`id_hash`). */
function idDigest(id: string): string {
  return createHash("sha256").update("salt-service/id/v1\0").update(id, "utf8").digest("hex");
}

/** A short, stable, non-reversible handle for an id in logs. */
export function idHash(id: string): string {
  return idDigest(id).slice(0, 16);
}

/**
 * HMAC-SHA-256 of an id under the audit key: what receipts carry. Without the
 * key, a guessable id cannot be confirmed from a receipt; with it (the service,
 * an auditor holding it) a receipt can be matched to its subject.
 */
export function keyedIdDigest(key: Buffer, id: string): string {
  return hmacSha256(key, "salt-service/receipt/v1\0", Buffer.from(id, "utf8")).toString("hex");
}

export function hmacSha256(key: Buffer, ...parts: (Buffer | string)[]): Buffer {
  const mac = createHmac("sha256", key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}
