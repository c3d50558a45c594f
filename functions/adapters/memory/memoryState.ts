import type { AuditEntry } from "../../domain/audit";
import type { EncryptedSalt } from "../../domain/encryption";
import type { SaltRecord, SaltVersionInfo } from "../../domain/salt";
import type { StoredSettings } from "../../ports/saltStore";

export interface StoredCurrent {
  record: SaltRecord;
  enc: EncryptedSalt;
}

export interface StoredVersion {
  info: SaltVersionInfo;
  enc: EncryptedSalt;
  expiresAt: Date;
}

/**
 * Everything the memory adapters keep, in one object they share (as Firestore
 * documents are shared by the Firestore adapters). Whoever builds the adapters
 * owns it: tests reach stored ciphertext through it as a database attacker would.
 */
export class MemoryState {
  readonly current = new Map<string, StoredCurrent>();
  readonly versions = new Map<string, Map<number, StoredVersion>>();
  readonly audit: AuditEntry[] = [];
  settings: StoredSettings = { pending: null, active: null };

  /** Runs `change` all or nothing: if it throws, every map is as it was. */
  atomically<T>(change: () => T): T {
    const current = new Map(this.current);
    const versions = new Map([...this.versions].map(([k, v]) => [k, new Map(v)]));
    const auditLength = this.audit.length;
    try {
      return change();
    } catch (e) {
      this.current.clear();
      for (const [k, v] of current) this.current.set(k, v);
      this.versions.clear();
      for (const [k, v] of versions) this.versions.set(k, v);
      this.audit.length = auditLength;
      throw e;
    }
  }
}

export const copyEnc = (e: EncryptedSalt): EncryptedSalt => ({
  ...e,
  iv: Buffer.from(e.iv),
  ct: Buffer.from(e.ct),
  tag: Buffer.from(e.tag),
});

/** Document-id order, as Firestore sorts ids. */
export const byDocId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
