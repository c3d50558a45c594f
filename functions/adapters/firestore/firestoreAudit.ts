import { randomUUID } from "node:crypto";
import {
  FieldPath,
  Timestamp,
  type DocumentReference,
  type Firestore,
  type Query,
} from "firebase-admin/firestore";
import { intervalsAudit, type AuditDraft, type AuditEntry } from "../../domain/audit";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import type {
  ActiveSettings,
  AuditContext,
  AuditQuery,
  AuditStore,
  PendingSettings,
  SettingsStore,
  StoredSettings,
} from "../../ports/saltStore";
import { guarded } from "./errors";
import { auditDocData, COLLECTIONS, parseAuditDoc, settingsSchema } from "./schema";

/** Whatever an entry is staged on: a transaction or a batch of the change it records. */
export interface CreateWriter {
  create(ref: DocumentReference, data: Record<string, unknown>): unknown;
}

/** Stages an audit entry on the writer of the change it records, so both commit together. */
export function stageAudit(db: Firestore, writer: CreateWriter, draft: AuditDraft, at: Date): AuditEntry {
  const entry: AuditEntry = { ...draft, id: randomUUID(), at: at.toISOString() };
  writer.create(db.collection(COLLECTIONS.audit).doc(entry.id), auditDocData(entry));
  return entry;
}

/** Append-only audit entries in `salts_audit`; nothing here updates or deletes one. */
export class FirestoreAuditStore implements AuditStore {
  constructor(
    private readonly db: Firestore,
    private readonly clock: () => Date,
    private readonly timeoutMs = 20_000,
  ) {}

  appendAudit(draft: AuditDraft): Promise<AuditEntry> {
    return guarded("appendAudit", this.timeoutMs, async () => {
      const batch = this.db.batch();
      const entry = stageAudit(this.db, batch, draft, this.clock());
      await batch.commit();
      return entry;
    });
  }

  listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return guarded("listAudit", this.timeoutMs, async () => {
      let q: Query = this.db.collection(COLLECTIONS.audit);
      if (query.targetId !== undefined) q = q.where("target.id", "==", query.targetId);
      if (query.operation !== undefined) q = q.where("operation", "==", query.operation);
      q = q.orderBy("at", "desc").orderBy(FieldPath.documentId(), "desc");
      if (query.cursor) {
        const c = decodeCursor(query.cursor);
        q = q.startAfter(Timestamp.fromMillis(c.t), c.d);
      }
      const snap = await q.limit(query.limit + 1).get();
      return toPage(
        snap.docs.map((d) => parseAuditDoc(d.data())),
        query.limit,
        (e) => e,
        (e) => ({ t: Date.parse(e.at), d: e.id }),
      );
    });
  }
}

/** Staged and active intervals in `salts_meta/config`, each change with its audit entry. */
export class FirestoreSettingsStore implements SettingsStore {
  constructor(
    private readonly db: Firestore,
    private readonly clock: () => Date,
    private readonly timeoutMs = 20_000,
  ) {}

  private ref() {
    return this.db.collection(COLLECTIONS.meta).doc("config");
  }

  readSettings(): Promise<StoredSettings> {
    return guarded("readSettings", this.timeoutMs, async () => {
      const snap = await this.ref().get();
      return settingsSchema.parse(snap.exists ? snap.data() : {});
    });
  }

  writePendingSettings(pending: PendingSettings, audit: AuditContext): Promise<void> {
    return guarded("writePendingSettings", this.timeoutMs, async () => {
      const clean: Record<string, number> = {};
      if (pending.user_days !== undefined) clean.user_days = pending.user_days;
      if (pending.global_days !== undefined) clean.global_days = pending.global_days;
      const batch = this.db.batch();
      batch.set(this.ref(), { pending: clean }, { mergeFields: ["pending"] });
      const details = {
        pending_user_days: pending.user_days ?? null,
        pending_global_days: pending.global_days ?? null,
      };
      stageAudit(this.db, batch, intervalsAudit(audit, details), this.clock());
      await batch.commit();
    });
  }

  activateSettings(
    intervals: { user_days: number; global_days: number },
    audit: AuditContext,
  ): Promise<ActiveSettings> {
    return guarded("activateSettings", this.timeoutMs, async () => {
      const now = this.clock();
      const batch = this.db.batch();
      batch.set(
        this.ref(),
        { active: { ...intervals, reloaded_at: Timestamp.fromDate(now) } },
        { mergeFields: ["active"] },
      );
      stageAudit(this.db, batch, intervalsAudit(audit, { ...intervals }), now);
      await batch.commit();
      return { ...intervals, reloaded_at: now };
    });
  }
}
