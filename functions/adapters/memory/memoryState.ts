import type { AuditEntry } from "../../domain/audit";
import type { ChainHead } from "../../domain/auditChain";
import type { EncryptedSalt } from "../../domain/encryption";
import type { SaltRecord, SaltVersionInfo } from "../../domain/salt";
import type { StoredSettings } from "../../ports/saltStore";
import type { OutboxEvent } from "../../domain/events";

export interface StoredCurrent {
  record: SaltRecord;
  enc: EncryptedSalt;
  shred: EncryptedSalt | null;
  keyVersions: number[];
  chain: { id: string; head: ChainHead | null };
  lastRewrapId: string | null;
}

/** An outbox record: pending until Pub/Sub accepted it, then kept until `expiresAt` (as Firestore's TTL would). */
export interface StoredEvent {
  event: OutboxEvent;
  pending: boolean;
  createdAt: Date;
  expiresAt: Date | null;
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
  /** Chain heads kept outside salts (log, caller, job chains; erased salts' chains). */
  readonly chainHeads = new Map<string, ChainHead>();
  /** Idempotency records: the first answer to a request id. */
  readonly requests = new Map<string, { fingerprint: string; answer: string; expiresAt: Date }>();
  /** The event outbox, by event id (see memoryOutbox.ts). */
  readonly outbox = new Map<string, StoredEvent>();
  settings: StoredSettings = { pending: null, active: null };
  sweep: Record<string, string | number | null> = {};

  /** Runs `change` all or nothing: if it throws, everything is as it was. */
  atomically<T>(change: () => T): T {
    const current = new Map([...this.current].map(([k, v]) => [k, { ...v }]));
    const versions = new Map([...this.versions].map(([k, v]) => [k, new Map(v)]));
    const heads = new Map(this.chainHeads);
    const requests = new Map(this.requests);
    const outbox = new Map(this.outbox);
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
      restore(this.outbox, outbox);
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
