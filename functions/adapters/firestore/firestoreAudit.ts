import { randomUUID } from "node:crypto";
import {
  FieldPath,
  Timestamp,
  type DocumentReference,
  type DocumentSnapshot,
  type Firestore,
  type Query,
  type Transaction,
} from "firebase-admin/firestore";
import { intervalsAudit, type AuditDraft, type AuditEntry } from "../../domain/audit";
import { bindings, chains, linkEntry, type AuditKey, type SealedHead } from "../../domain/auditChain";
import { ALL_SHARDS, indexShard } from "../../domain/ids";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import type { VersionedSecret } from "../../ports/secrets";
import { AUDIT_ONCE_TTL_MS } from "../../ports/saltStore";
import { storageCalls } from "../../observability/storageCalls";
import type {
  ActiveSettings,
  AuditContext,
  AuditQuery,
  AuditStore,
  ChainScanItem,
  PendingSettings,
  SettingsStore,
  StoredEntry,
  StoredSettings,
  SweepState,
} from "../../ports/saltStore";
import { guarded, transactGuarded, type Guard } from "./errors";
import { FirestoreChainHeads } from "./firestoreChainHeads";
import { auditDocData, chainDocSchema, COLLECTIONS, parseAuditDoc, settingsSchema } from "./schema";

/** Whatever an entry is staged on: a transaction or a batch of the change it records. */
export interface CreateWriter {
  create(ref: DocumentReference, data: Record<string, unknown>): unknown;
}

/** An entry linked into its chain, and the chain's new (sealed) head. */
export interface SealedLink {
  entry: AuditEntry;
  head: SealedHead;
}

/** Stages a linked entry on the writer of the change it records, so both commit together. */
export function stageEntry(db: Firestore, writer: CreateWriter, linked: SealedLink): SealedLink {
  // The entry's shard (from its random id) spreads the time index over INDEX_SHARDS ranges.
  const data = auditDocData(linked.entry, indexShard(linked.entry.id));
  writer.create(db.collection(COLLECTIONS.audit).doc(linked.entry.id), data);
  return linked;
}

/**
 * Within a transaction: reads a chain's head document, stages the entry linked
 * after it, and moves the head (one document per chain, written at the chain's pace).
 */
export async function appendLinked(
  db: Firestore,
  tx: Transaction,
  chain: string,
  draft: AuditDraft,
  at: Date,
  key: AuditKey,
): Promise<AuditEntry> {
  const ref = db.collection(COLLECTIONS.chains).doc(chain);
  const snap = await tx.get(ref);
  // A chain document that is not well-formed (tampered with) is not followed: the chain goes on from nothing, a break.
  const parsed = snap.exists ? chainDocSchema.safeParse(snap.data()) : null;
  const head = parsed?.success ? parsed.data.head : null;
  const linked = stageEntry(
    db,
    tx,
    linkEntry(draft, { id: randomUUID(), at }, chain, head, key, bindings.log),
  );
  tx.set(ref, { chain, head: linked.head });
  return linked.entry;
}

/** Append-only audit entries in `salts_audit`, hash-chained; nothing here updates or deletes one. */
export class FirestoreAuditStore extends FirestoreChainHeads implements AuditStore {
  constructor(
    db: Firestore,
    private readonly clock: () => Date,
    private readonly auditKey: VersionedSecret,
    timeoutMs = 20_000,
  ) {
    super(db, timeoutMs);
  }

  appendAudit(draft: AuditDraft, chain: string = chains.of(draft.target)): Promise<AuditEntry> {
    return guarded("appendAudit", this.timeoutMs, async (guard) => {
      const key = await this.auditKey.current();
      return transactGuarded(this.db, guard, (tx) =>
        appendLinked(this.db, tx, chain, draft, this.clock(), key),
      );
    });
  }

  appendAuditOnce(
    draft: AuditDraft,
    onceKey: string,
    chain: string = chains.of(draft.target),
  ): Promise<AuditEntry | null> {
    return guarded("appendAuditOnce", this.timeoutMs, async () => {
      const marker = this.db.collection(COLLECTIONS.auditOnce).doc(onceKey);
      const live = (s: DocumentSnapshot) =>
        s.exists && (s.get("expire_at") as Timestamp).toDate() > this.clock();
      // A plain read first: every later batch of a job finds the marker without a transaction.
      storageCalls.read();
      if (live(await marker.get())) return null;
      const key = await this.auditKey.current();
      return this.db.runTransaction(async (tx) => {
        // Two reads (the marker, then the chain's head in appendLinked) and the commit.
        storageCalls.read(2);
        storageCalls.commit();
        if (live(await tx.get(marker))) return null;
        const now = this.clock();
        const entry = await appendLinked(this.db, tx, chain, draft, now, key);
        // The marker commits with the entry: both are written, or neither.
        tx.set(marker, {
          entry_id: entry.id,
          at: Timestamp.fromDate(now),
          expire_at: Timestamp.fromMillis(now.getTime() + AUDIT_ONCE_TTL_MS),
        });
        return entry;
      });
    });
  }

  listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return guarded("listAudit", this.timeoutMs, async () => {
      let q: Query = this.db.collection(COLLECTIONS.audit);
      if (query.targetId !== undefined) q = q.where("target.id", "==", query.targetId);
      if (query.operation !== undefined) q = q.where("operation", "==", query.operation);
      if (query.result !== undefined) q = q.where("result", "==", query.result);
      // Without a target, the time index is sharded: ask every shard at once, Firestore merges in order.
      if (query.targetId === undefined) q = q.where("shard", "in", [...ALL_SHARDS]);
      if (query.from) q = q.where("at", ">=", Timestamp.fromDate(query.from));
      if (query.to) q = q.where("at", "<", Timestamp.fromDate(query.to));
      q = q.orderBy("at", "desc").orderBy(FieldPath.documentId(), "desc");
      if (query.cursor) {
        const c = decodeCursor(query.cursor);
        q = q.startAfter(Timestamp.fromMillis(c.t), c.d);
      }
      const snap = await q.limit(query.limit + 1).get();
      // A document that is not a well-formed entry is left out here (auditVerify reports it).
      const page = toPage(
        snap.docs,
        query.limit,
        (d) => parseAuditDoc(d.id, d.data()),
        (d) => ({ t: (d.get("at") as Timestamp).toMillis(), d: d.id }),
      );
      return { items: page.items.filter((e): e is AuditEntry => e !== null), nextCursor: page.nextCursor };
    });
  }

  scanChains(page: {
    limit: number;
    cursor?: string | undefined;
    chains?: string[];
  }): Promise<Page<ChainScanItem>> {
    return guarded("scanChains", this.timeoutMs, async () => {
      let q: Query = this.db.collection(COLLECTIONS.audit);
      if (page.chains) q = q.where("integrity.chain", "in", page.chains);
      q = q.orderBy("integrity.chain").orderBy("integrity.seq");
      if (page.cursor) {
        const c = decodeCursor(page.cursor);
        q = q.startAfter(c.d, c.t);
      }
      const snap = await q.limit(page.limit + 1).get();
      const rows = toPage(
        snap.docs,
        page.limit,
        (d) => ({ entry: parseAuditDoc(d.id, d.data()), docId: d.id }),
        (d) => ({ t: d.get("integrity.seq") as number, d: d.get("integrity.chain") as string }),
      );
      // One that is not well-formed leaves a gap in its chain (a break); the document scan names it.
      const items = rows.items.filter((x): x is ChainScanItem => x.entry !== null);
      return { items, nextCursor: rows.nextCursor };
    });
  }

  scanEntries(page: {
    limit: number;
    cursor?: string | null;
    targetId?: string;
  }): Promise<Page<StoredEntry>> {
    return guarded("scanEntries", this.timeoutMs, async () => {
      // Ordered by document id only: every document appears, whichever fields it lacks.
      let q: Query = this.db.collection(COLLECTIONS.audit);
      if (page.targetId !== undefined) q = q.where("target.id", "==", page.targetId);
      q = q.orderBy(FieldPath.documentId());
      if (page.cursor) q = q.startAfter(decodeCursor(page.cursor).d);
      const snap = await q.limit(page.limit + 1).get();
      return toPage(
        snap.docs,
        page.limit,
        (d) => ({ docId: d.id, entry: parseAuditDoc(d.id, d.data()) }),
        (d) => ({ t: 0, d: d.id }),
      );
    });
  }
}

/** Staged and active intervals in `salts_meta/config`, each change with its audit entry. */
export class FirestoreSettingsStore implements SettingsStore {
  constructor(
    private readonly db: Firestore,
    private readonly auditKey: VersionedSecret,
    private readonly clock: () => Date,
    private readonly timeoutMs = 20_000,
  ) {}

  private ref() {
    return this.db.collection(COLLECTIONS.meta).doc("config");
  }

  readSweepState(): Promise<SweepState> {
    return guarded("readSweepState", this.timeoutMs, async () => {
      const snap = await this.db.collection(COLLECTIONS.meta).doc("sweep").get();
      return (snap.data() ?? {}) as SweepState;
    });
  }

  writeSweepState(state: SweepState): Promise<void> {
    return guarded("writeSweepState", this.timeoutMs, async () => {
      await this.db.collection(COLLECTIONS.meta).doc("sweep").set(state);
    });
  }

  readSettings(): Promise<StoredSettings> {
    return guarded("readSettings", this.timeoutMs, async () => {
      const snap = await this.ref().get();
      return settingsSchema.parse(snap.exists ? snap.data() : {});
    });
  }

  writePendingSettings(pending: PendingSettings, audit: AuditContext): Promise<void> {
    return guarded("writePendingSettings", this.timeoutMs, async (guard) => {
      const clean: Record<string, number> = {};
      if (pending.user_days !== undefined) clean.user_days = pending.user_days;
      if (pending.global_days !== undefined) clean.global_days = pending.global_days;
      const details = {
        pending_user_days: pending.user_days ?? null,
        pending_global_days: pending.global_days ?? null,
      };
      await this.withEntry(guard, intervalsAudit(audit, details), { pending: clean }, ["pending"]);
    });
  }

  activateSettings(
    intervals: { user_days: number; global_days: number },
    audit: AuditContext,
  ): Promise<ActiveSettings> {
    return guarded("activateSettings", this.timeoutMs, async (guard) => {
      const now = this.clock();
      const active = { ...intervals, reloaded_at: Timestamp.fromDate(now) };
      await this.withEntry(guard, intervalsAudit(audit, { ...intervals }), { active }, ["active"]);
      return { ...intervals, reloaded_at: now };
    });
  }

  /** The settings change and its chained audit entry, in one transaction. */
  private async withEntry(
    guard: Guard,
    draft: AuditDraft,
    data: Record<string, unknown>,
    fields: string[],
  ): Promise<void> {
    const key = await this.auditKey.current();
    await transactGuarded(this.db, guard, async (tx) => {
      await appendLinked(this.db, tx, chains.of(draft.target), draft, this.clock(), key);
      tx.set(this.ref(), data, { mergeFields: fields });
    });
  }
}
