/** One version of a secret as loaded; the bytes never leave the process. */
export interface SecretVersion {
  readonly version: number;
  readonly bytes: Buffer;
}

/**
 * A versioned secret (the pepper, the salt-encryption key, the audit key).
 * Implementations resolve `latest` to a concrete version, cache what they load,
 * and fail closed: a missing, empty, malformed, disabled or destroyed version is
 * failed-precondition naming the secret and version; a store that does not
 * answer is unavailable.
 */
export interface VersionedSecret {
  readonly name: string;
  /** Where it comes from, for logs and status (never the value). */
  readonly description: string;
  /** The version in use now. */
  current(): Promise<SecretVersion>;
  /** A given version (to decrypt or verify what was made under it). */
  version(version: number): Promise<SecretVersion>;
  /** The current version if it is loaded already: lets hot paths skip an await. */
  peek(): SecretVersion | null;
}

/** The HMAC key of every pseudonym. */
export type PepperSource = VersionedSecret;
export type Pepper = SecretVersion;

export { MIN_PEPPER_BYTES } from "../domain/pepper";
