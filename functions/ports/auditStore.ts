import type { AuditDraft, AuditEntry, AuditResult } from "../domain/audit";
import type { AuditKey, HeadBinding, SealedHead } from "../domain/auditChain";
import type { CheckpointPage, CheckpointSummary } from "../domain/auditLedger";
import type { Page } from "../domain/paging";

export interface PageRequest {
  limit: number;
  cursor?: string | null | undefined;
}

export interface AuditQuery {
  limit: number;
  cursor?: string | undefined;
  targetId?: string | undefined;
  operation?: string | undefined;
  result?: AuditResult | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** One entry in chain order, as the verifier reads them. */
export interface ChainScanItem {
  entry: AuditEntry;
  docId: string;
}

/** One stored document of the trail in document order: its entry, or null when it is not a well-formed one. */
export interface StoredEntry {
  docId: string;
  entry: AuditEntry | null;
}

/** A chain's head where it is kept, with what it is bound to there. */
export interface HeadRecord {
  chain: string;
  head: SealedHead;
  bound: HeadBinding;
}

/**
 * The append-only, hash-chained audit trail. Entries are read back with `id` =
 * their document id, so a copy stored under another id does not verify.
 */
export interface AuditStore extends CheckpointStore {
  /** Appends to `chain` (default: the log chain of the entry's target). */
  appendAudit(draft: AuditDraft, chain?: string): Promise<AuditEntry>;
  /**
   * Appends `draft` unless an entry was already appended under `onceKey` (a marker committed with the
   * entry, kept AUDIT_ONCE_TTL_MS): null when it was. Concurrent callers with one key write one entry.
   */
  appendAuditOnce(draft: AuditDraft, onceKey: string, chain?: string): Promise<AuditEntry | null>;
  /** Entries newest first; documents that are not well-formed entries are left out (auditVerify reports them). */
  listAudit(query: AuditQuery): Promise<Page<AuditEntry>>;
  /** Entries ordered by (chain, seq), optionally only of some chains: only linked entries appear. */
  scanChains(page: PageRequest & { chains?: string[] }): Promise<Page<ChainScanItem>>;
  /**
   * Every stored document of the trail (optionally only those about one target) in document
   * order, whatever fields it has: what finds entries without a link, which no ordered query sees.
   */
  scanEntries(page: PageRequest & { targetId?: string }): Promise<Page<StoredEntry>>;
  /** Where the chain's newest link is recorded (salt document or chain document), or null. */
  headOf(chain: string): Promise<HeadRecord | null>;
  /** The heads kept in chain documents (every chain but live salts'), in document order. */
  listChainHeads(page: PageRequest): Promise<Page<HeadRecord>>;
  /** Chains whose head is kept for `targetId` (its salts, live or erased, and its log chains). */
  chainsHeldFor(targetId: string): Promise<string[]>;
  /**
   * Seals a head written before heads were authenticated, where it is kept, if it is still exactly
   * `record.head` (unsealed); false otherwise. Only the sweep's first pass of the ledger does this.
   */
  sealLegacyHead(record: HeadRecord, key: AuditKey): Promise<boolean>;
}

/** A checkpoint or page document that is not one this service could have written. */
export const MALFORMED = "malformed" as const;

export interface CheckpointStore {
  /** Writes page `page.n` of checkpoint `id` (heads in the order they were collected). */
  putCheckpointPage(id: string, page: CheckpointPage): Promise<void>;
  /** Records the finished checkpoint (only then does it count); false when that id exists already. */
  finishCheckpoint(summary: CheckpointSummary): Promise<boolean>;
  /** Finished checkpoints by sequence number, newest first, below `beforeSeq` when given. */
  listCheckpoints(page: {
    limit: number;
    beforeSeq?: number | undefined;
  }): Promise<(CheckpointSummary | { id: string; seq: number; malformed: true })[]>;
  getCheckpoint(id: string): Promise<CheckpointSummary | typeof MALFORMED | null>;
  checkpointPage(id: string, n: number): Promise<CheckpointPage | typeof MALFORMED | null>;
}
