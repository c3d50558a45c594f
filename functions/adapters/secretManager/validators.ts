import { parseEncryptionKey } from "../../domain/encryption";
import { pepperBytes } from "../../domain/pepper";
import type { SecretValidator } from "./secretVersions";

/** The pepper: trimmed printable ASCII of 32+ bytes, never decoded (the rule is `pepperBytes`, domain/pepper.ts). */
export const pepperText: SecretValidator = (raw, name) => pepperBytes(raw, name);

/**
 * The audit key: the pepper's rule (`pepperBytes`): surrounding whitespace never part of it, printable
 * ASCII, at least 32 bytes, never decoded; so whoever verifies the trail outside the service gets the
 * same key bytes however the secret was typed.
 */
export const auditKeyText: SecretValidator = (raw, name) => pepperBytes(raw, name);

/** An AES-256 key written as hex or base64 text (a trailing newline, as `openssl rand` writes, is fine). */
export const aesKeyText: SecretValidator = (raw, name) => parseEncryptionKey(raw.toString("utf8"), name);
