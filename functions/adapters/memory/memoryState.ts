import type { ApprovalRecord } from "../../domain/approvals";
import type { AuditEntry } from "../../domain/audit";
import type { SealedHead } from "../../domain/auditChain";
import type { CheckpointPage, CheckpointSummary } from "../../domain/auditLedger";
import type { EncryptedSalt } from "../../domain/encryption";
import type { SaltRecord, SaltVersionInfo } from "../../domain/salt";
import type { RoleIndexEntry, RoleScanState } from "../../ports/accounts";
import type { ScopeRecord } from "../../domain/scope";
import type { StoredSettings } from "../../ports/saltStore";
import type { OutboxEvent } from "../../domain/events";

export interface StoredCurrent {
  record: SaltRecord;
  enc: EncryptedSalt;
  shred: EncryptedSalt | null;
  keyVersions: number[];
  chain: { id: string; head: SealedHead | null };
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
  readonly chainHeads = new Map<string, SealedHead>();
  /** Erased incarnations by salt location: a restored copy of one is refused. */
  readonly erased = new Map<string, { incarnations: Set<string>; chainless: boolean }>();
  /** Finished checkpoints by id, and their pages by `${id}/${n}`. */
  readonly checkpoints = new Map<string, CheckpointSummary>();
  readonly checkpointPages = new Map<string, CheckpointPage>();
  /** Idempotency records: the first answer to a request id. */
  readonly requests = new Map<string, { fingerprint: string; answer: string; expiresAt: Date }>();
  /** Once-markers of audit entries (appendAuditOnce): key -> when it expires. */
  readonly auditOnce = new Map<string, Date>();
  /** The event outbox, by event id (see memoryOutbox.ts). */
  readonly outbox = new Map<string, StoredEvent>();
  /** Scopes by id (memoryScopeStore). */
  readonly scopes = new Map<string, StoredScope>();
  settings: StoredSettings = { pending: null, active: null };
  sweep: Record<string, string | number | null> = {};
  /** Dual control: approvals by id, and the sealed policy (null until one is set). */
  readonly approvals = new Map<string, ApprovalRecord>();
  approvalPolicy: { operations: string[]; key_version: number; mac: string } | null = null;
  /** Who holds a role (by uid), and how far the last pass over the accounts went. */
  readonly roleIndex = new Map<string, RoleIndexEntry>();
  roleScan: RoleScanState = { reconciled_at: null, scan: null };

  /** Runs `change` all or nothing: if it throws, everything is as it was. */
  atomically<T>(change: () => T): T {
    const current = new Map([...this.current].map(([k, v]) => [k, { ...v }]));
    const versions = new Map([...this.versions].map(([k, v]) => [k, new Map(v)]));
    const heads = new Map(this.chainHeads);
    const requests = new Map(this.requests);
    const erased = new Map(this.erased);
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
      restore(this.erased, erased);
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
