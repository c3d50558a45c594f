import type { KeyRing } from "../domain/encryption";
import type { RotationPolicy } from "../domain/policy";
import type { CommitListener } from "./events";
import type { VersionedSecret } from "./secrets";

/** What every storage adapter needs from the outside, injected so tests control it. */
export interface BackendDeps {
  clock: () => Date;
  policy: () => RotationPolicy;
  retentionDays: () => number;
  /** The salt-encryption key, by version; fails closed (failed-precondition) when missing or disabled. */
  keys: KeyRing;
  /** The key of the audit trail's hash chains (and of keyed id hashes). */
  auditKey: VersionedSecret;
  /** Told which keys a commit staged events for, so they are published soon after it (optional in tests). */
  events?: CommitListener;
}
