import { parseEncryptionKey } from "../../domain/encryption";
import { failedPrecondition } from "../../domain/errors";
import { pepperBytes } from "../../domain/pepper";
import { MIN_PEPPER_BYTES } from "../../ports/secrets";
import type { SecretValidator } from "./secretVersions";

/** The pepper: trimmed printable ASCII of 32+ bytes, never decoded (the rule is `pepperBytes`, domain/pepper.ts). */
export const pepperText: SecretValidator = (raw, name) => pepperBytes(raw, name);

/** Raw bytes, at least 32 (the audit key): anything shorter is refused, never padded. */
export const randomKeyBytes: SecretValidator = (raw, name) => {
  if (raw.length === 0) throw failedPrecondition(`${name} is missing or empty`);
  if (raw.length < MIN_PEPPER_BYTES) {
    throw failedPrecondition(`${name} is shorter than ${MIN_PEPPER_BYTES} bytes`);
  }
  return raw;
};

/** An AES-256 key written as hex or base64 text (a trailing newline, as `openssl rand` writes, is fine). */
export const aesKeyText: SecretValidator = (raw, name) => parseEncryptionKey(raw.toString("utf8"), name);
