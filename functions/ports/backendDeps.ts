import type { SaltCipher } from "../domain/encryption";
import type { RotationPolicy } from "../domain/policy";

/** What every storage adapter needs from the outside, injected so tests control it. */
export interface BackendDeps {
  clock: () => Date;
  policy: () => RotationPolicy;
  retentionDays: () => number;
  /** Throws failed-precondition when the encryption key is missing: fail closed. */
  cipher: () => SaltCipher;
}
