import type { AuditEntry } from "../../domain/audit";
import type { ChainHead } from "../../domain/auditChain";
import type { EncryptedSalt } from "../../domain/encryption";
import type { SaltRecord, SaltVersionInfo } from "../../domain/salt";
import type { ScopeRecord } from "../../domain/scope";
import type { StoredSettings } from "../../ports/saltStore";

export interface StoredCurrent {
  record: SaltRecord;
  enc: EncryptedSalt;
  shred: EncryptedSalt | null;
  keyVersions: number[];
  chain: { id: string; head: ChainHead | null };
  lastRewrapId: string | null;
}

export interface StoredVersion {
  info: SaltVersionInfo;
  enc: EncryptedSalt;
  expiresAt: Date;
}

/** A scope: its current secret and the retired versions still retained. */
export interface StoredScope {
  record: ScopeRecord;
  secret: EncryptedSalt;
  retained: { version: number; created_at: Date; retired_at: Date; expiresAt: Date; secret: EncryptedSalt }[];
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
  /** Chain heads kept outside salts (log, caller, job chains; erased salts' chains). */
  readonly chainHeads = new Map<string, ChainHead>();
  /** Idempotency records: the first answer to a request id. */
  readonly requests = new Map<string, { fingerprint: string; answer: string; expiresAt: Date }>();
  /** Scopes by id (memoryScopeStore). */
  readonly scopes = new Map<string, StoredScope>();
  settings: StoredSettings = { pending: null, active: null };
  sweep: Record<string, string | number | null> = {};

  /** Runs `change` all or nothing: if it throws, everything is as it was. */
  atomically<T>(change: () => T): T {
    const current = new Map([...this.current].map(([k, v]) => [k, { ...v }]));
    const versions = new Map([...this.versions].map(([k, v]) => [k, new Map(v)]));
    const heads = new Map(this.chainHeads);
    const requests = new Map(this.requests);
    const auditLength = this.audit.length;
    try {
      return change();
    } catch (e) {
      const restore = <K, V>(into: Map<K, V>, from: Map<K, V>) => {
        into.clear();
        for (const [k, v] of from) into.set(k, v);
      };
      restore(this.current, current);
      restore(this.versions, versions);
      restore(this.chainHeads, heads);
      restore(this.requests, requests);
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
