import { randomUUID } from "node:crypto";
import {
  FieldPath,
  Timestamp,
  type DocumentReference,
  type QueryDocumentSnapshot,
  type Firestore,
  type Query,
  type Transaction,
} from "firebase-admin/firestore";
import { intervalsAudit, type AuditDraft, type AuditEntry } from "../../domain/audit";
import { saltAad, type EncryptedSalt } from "../../domain/encryption";
import { notFound } from "../../domain/errors";
import { encodeDocId, type SaltKind } from "../../domain/ids";
import { dueCutoff } from "../../domain/policy";
import { guardRejects, planCreate, planRotate, saltLocation } from "../../domain/rotation";
import type { LoadedSalt, SaltRecord, SaltVersionInfo } from "../../domain/salt";
import { decodeCursor, encodeCursor, type BackendDeps } from "../../ports/backendDeps";
import type {
  AuditContext,
  AuditQuery,
  EraseOutcome,
  Page,
  RotateOutcome,
  RotateRequest,
  ActiveSettings,
  PendingSettings,
  BatchRotateItem,
  ListedSalt,
  SaltBackend,
  ScannedSalt,
  StoredSettings,
} from "../../ports/saltBackend";
import { MAX_BATCH_ROTATIONS } from "../../ports/saltBackend";
import { guarded } from "./errors";
import {
  auditDocData,
  parseAuditDoc,
  parseSaltDoc,
  parseSaltRecord,
  RECORD_FIELDS,
  saltDocData,
  settingsSchema,
  versionDocData,
  versionDocSchema,
} from "./schema";

/** Where applyRotation stages its writes: a transaction, or a batch with a precondition on the salt. */
interface RotationWriter {
  create(ref: DocumentReference, data: Record<string, unknown>): unknown;
  set(ref: DocumentReference, data: Record<string, unknown>): unknown;
  /** Writes the new version over the salt document that was read. */
  replaceSalt(ref: DocumentReference, data: Record<string, unknown>): unknown;
}

const inTransaction = (tx: Transaction): RotationWriter => ({
  create: (ref, data) => tx.create(ref, data),
  set: (ref, data) => tx.set(ref, data),
  replaceSalt: (ref, data) => tx.set(ref, data),
});

const parsedOrNull = (data: unknown) => (data === undefined ? null : parseSaltDoc(data));

/** What a Firestore listing remembers of a salt: its ciphertext and the exact version of the document read. */
interface FirestoreHandle {
  enc: EncryptedSalt;
  updateTime: Timestamp;
}

export const COLLECTIONS = {
  user: "salts_user",
  global: "salts_global",
  versions: "salt_versions",
  audit: "salts_audit",
  meta: "salts_meta",
} as const;

const SETTINGS_DOC = "config";

export interface FirestoreBackendOptions {
  /** Deadline for one storage operation before it is reported `unavailable`. */
  timeoutMs?: number;
}

/**
 * Salts in Firestore. Each salt is one document in `salts_user` / `salts_global`
 * (id encoded by `encodeDocId`), retired versions in its `salt_versions`
 * subcollection with a TTL field, audit entries in `salts_audit`. Every mutation
 * is one transaction that also creates its audit entry.
 */
export class FirestoreSaltBackend implements SaltBackend {
  readonly storageType = "firestore" as const;
  private readonly timeoutMs: number;

  constructor(
    private readonly db: Firestore,
    private readonly deps: BackendDeps,
    options: FirestoreBackendOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 20_000;
  }

  saltRef(kind: SaltKind, id: string): DocumentReference {
    return this.db.collection(COLLECTIONS[kind]).doc(encodeDocId(id));
  }

  private run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return guarded(operation, this.timeoutMs, fn);
  }

  private open(kind: SaltKind, id: string, data: unknown): LoadedSalt {
    const { record, enc } = parseSaltDoc(data);
    return { record, salt: this.deps.cipher().decrypt(enc, saltAad(saltLocation(kind, id), record.version)) };
  }

  private writeAudit(tx: Pick<RotationWriter, "create">, draft: AuditDraft, at: Date): AuditEntry {
    const entry: AuditEntry = { ...draft, id: randomUUID(), at: at.toISOString() };
    tx.create(this.db.collection(COLLECTIONS.audit).doc(entry.id), auditDocData(entry));
    return entry;
  }

  get(kind: SaltKind, id: string): Promise<LoadedSalt | null> {
    return this.run("get", async () => {
      const snap = await this.saltRef(kind, id).get();
      return snap.exists ? this.open(kind, id, snap.data()) : null;
    });
  }

  getOrCreate(
    kind: SaltKind,
    id: string,
    audit?: AuditContext,
  ): Promise<{ loaded: LoadedSalt; created: boolean }> {
    return this.run("getOrCreate", async () => {
      const ref = this.saltRef(kind, id);
      // A plain read first: the common case needs no transaction.
      const snap = await ref.get();
      if (snap.exists) return { loaded: this.open(kind, id, snap.data()), created: false };
      return this.db.runTransaction(async (tx) => {
        const again = await tx.get(ref);
        if (again.exists) return { loaded: this.open(kind, id, again.data()), created: false };
        const now = this.deps.clock();
        const plan = planCreate(kind, id, now, this.deps.policy());
        const enc = this.deps.cipher().encrypt(plan.salt, saltAad(saltLocation(kind, id), 1));
        tx.create(ref, saltDocData(plan.record, enc, now));
        if (audit) this.writeAudit(tx, { ...audit, target: { kind, id }, result: "success" }, now);
        return { loaded: { record: plan.record, salt: plan.salt }, created: true };
      });
    });
  }

  getVersion(kind: SaltKind, id: string, version: number): Promise<Buffer | null> {
    return this.run("getVersion", async () => {
      const ref = this.saltRef(kind, id);
      const snap = await ref.get();
      if (!snap.exists) return null;
      const loaded = this.open(kind, id, snap.data());
      if (loaded.record.version === version) return loaded.salt;
      const old = await ref.collection(COLLECTIONS.versions).doc(String(version)).get();
      if (!old.exists) return null;
      const parsed = versionDocSchema.parse(old.data());
      if (parsed.expire_at <= this.deps.clock()) return null;
      return this.deps.cipher().decrypt(parsed.salt, saltAad(saltLocation(kind, id), version));
    });
  }

  /**
   * Decides one rotation from what the transaction read and stages its writes
   * (salt, retired version, audit entry) on the transaction.
   */
  private applyRotation(
    tx: RotationWriter,
    kind: SaltKind,
    id: string,
    current: { record: SaltRecord; enc: EncryptedSalt } | null,
    request: RotateRequest,
    now: Date,
  ): RotateOutcome {
    const ref = this.saltRef(kind, id);
    const location = saltLocation(kind, id);
    const cipher = this.deps.cipher();
    const policy = this.deps.policy();
    const draft: AuditDraft = {
      ...request.audit,
      target: { kind, id },
      result: "success",
      rotation_id: request.rotationId,
    };
    if (current === null) {
      if (request.ifVersion !== undefined || request.onlyIfDue) {
        return { status: "skipped", reason: "missing", record: null };
      }
      if (!request.force) throw notFound(`The ${kind} salt`);
      const plan = planCreate(kind, id, now, policy, request.rotationId);
      tx.create(ref, saltDocData(plan.record, cipher.encrypt(plan.salt, saltAad(location, 1)), now));
      this.writeAudit(tx, draft, now);
      return { status: "created", record: plan.record, rotationId: request.rotationId };
    }
    const { record, enc } = current;
    const skip = guardRejects(record, request, policy, now);
    if (skip) return { status: "skipped", reason: skip, record };
    const plan = planRotate(record, now, policy, this.deps.retentionDays(), request.rotationId);
    // The retired ciphertext moves unchanged: its associated data names the salt and version, not the document.
    tx.set(
      ref.collection(COLLECTIONS.versions).doc(String(plan.retired.version)),
      versionDocData(plan.retired, enc, plan.retiredExpiresAt),
    );
    tx.replaceSalt(
      ref,
      saltDocData(plan.record, cipher.encrypt(plan.salt, saltAad(location, plan.record.version)), now),
    );
    this.writeAudit(tx, draft, now);
    return { status: "rotated", record: plan.record, rotationId: request.rotationId };
  }

  rotate(kind: SaltKind, id: string, request: RotateRequest): Promise<RotateOutcome> {
    return this.run("rotate", () =>
      this.db.runTransaction(async (tx) => {
        const snap = await tx.get(this.saltRef(kind, id));
        // Time is read inside the attempt so a retried transaction decides afresh.
        return this.applyRotation(
          inTransaction(tx),
          kind,
          id,
          parsedOrNull(snap.data()),
          request,
          this.deps.clock(),
        );
      }),
    );
  }

  rotateMany(items: BatchRotateItem[]): Promise<RotateOutcome[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (items.length > MAX_BATCH_ROTATIONS) {
      throw new Error(`rotateMany takes at most ${MAX_BATCH_ROTATIONS} items`);
    }
    return this.run("rotateMany", () =>
      this.db.runTransaction(async (tx) => {
        const snaps = await tx.getAll(...items.map((i) => this.saltRef(i.kind, i.id)));
        const now = this.deps.clock();
        return items.map((item, n) =>
          this.applyRotation(
            inTransaction(tx),
            item.kind,
            item.id,
            parsedOrNull(snaps[n]?.data()),
            item.request,
            now,
          ),
        );
      }),
    );
  }

  listDueForRotation(
    kind: SaltKind,
    page: { limit: number; cursor?: string | null },
  ): Promise<Page<ListedSalt>> {
    return this.run("listDueForRotation", () =>
      this.duePage(kind, page, null, (d) => {
        const { record, enc } = parseSaltDoc(d.data());
        const handle: FirestoreHandle = { enc, updateTime: d.updateTime };
        return { record, handle };
      }),
    );
  }

  /**
   * One page of due salts, oldest rotation first; `fields` limits what is read.
   * One extra document tells whether another page exists.
   */
  private async duePage<T>(
    kind: SaltKind,
    page: { limit: number; cursor?: string | null },
    fields: readonly string[] | null,
    toItem: (doc: QueryDocumentSnapshot) => T & ({ record: SaltRecord } | SaltRecord),
  ): Promise<Page<T>> {
    let query = this.dueQuery(kind);
    if (fields) query = query.select(...fields);
    query = query.orderBy("last_rotated").orderBy(FieldPath.documentId());
    if (page.cursor) {
      const c = decodeCursor(page.cursor);
      query = query.startAfter(Timestamp.fromMillis(c.t), c.d);
    }
    const snap = await query.limit(page.limit + 1).get();
    const docs = snap.docs.slice(0, page.limit);
    const items = docs.map(toItem);
    const last = items.at(-1);
    const lastDoc = docs.at(-1);
    const lastRotated = last && ("record" in last ? last.record : last).last_rotated;
    return {
      items,
      nextCursor:
        snap.size > page.limit && lastRotated && lastDoc
          ? encodeCursor({ t: lastRotated.getTime(), d: lastDoc.id })
          : null,
    };
  }

  rotateListed(items: { listed: ListedSalt; request: RotateRequest }[]): Promise<RotateOutcome[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (items.length > MAX_BATCH_ROTATIONS) {
      throw new Error(`rotateListed takes at most ${MAX_BATCH_ROTATIONS} items`);
    }
    return this.run("rotateListed", async () => {
      const batch = this.db.batch();
      const now = this.deps.clock();
      const outcomes = items.map(({ listed, request }) => {
        const handle = listed.handle as FirestoreHandle;
        // The salt is replaced only if it is exactly as listed: then the decision made here still holds.
        const writer: RotationWriter = {
          create: (ref, data) => batch.create(ref, data),
          set: (ref, data) => batch.set(ref, data),
          replaceSalt: (ref, data) => batch.update(ref, data, { lastUpdateTime: handle.updateTime }),
        };
        const current = { record: listed.record, enc: handle.enc };
        return this.applyRotation(writer, listed.record.kind, listed.record.id, current, request, now);
      });
      if (outcomes.every((o) => o.status === "skipped")) return outcomes;
      try {
        await batch.commit();
        return outcomes;
      } catch (e) {
        // 9 FAILED_PRECONDITION: a salt changed since it was listed; decide again under a transaction.
        if ((e as { code?: number }).code !== 9) throw e;
      }
      return this.rotateMany(
        items.map(({ listed, request }) => ({ kind: listed.record.kind, id: listed.record.id, request })),
      );
    });
  }

  history(kind: SaltKind, id: string): Promise<SaltVersionInfo[]> {
    return this.run("history", async () => {
      const now = Timestamp.fromDate(this.deps.clock());
      const snap = await this.saltRef(kind, id)
        .collection(COLLECTIONS.versions)
        .where("expire_at", ">", now)
        .get();
      return snap.docs
        .map((d) => {
          const v = versionDocSchema.parse(d.data());
          return {
            version: v.version,
            created_at: v.created_at,
            retired_at: v.retired_at,
            salt_hash_prefix: v.salt_hash_prefix,
          };
        })
        .sort((a, b) => b.version - a.version);
    });
  }

  erase(kind: SaltKind, id: string, rotationId: string, audit: AuditContext): Promise<EraseOutcome> {
    return this.run("erase", () => {
      const ref = this.saltRef(kind, id);
      return this.db.runTransaction(async (tx) => {
        const [snap, retired] = await Promise.all([
          tx.get(ref),
          tx.get(ref.collection(COLLECTIONS.versions)),
        ]);
        const versionsDestroyed = (snap.exists ? 1 : 0) + retired.size;
        for (const doc of retired.docs) tx.delete(doc.ref);
        if (snap.exists) tx.delete(ref);
        this.writeAudit(
          tx,
          {
            ...audit,
            target: { kind, id },
            result: "success",
            rotation_id: rotationId,
            details: { versions_destroyed: versionsDestroyed },
          },
          this.deps.clock(),
        );
        return { erased: versionsDestroyed > 0, versionsDestroyed };
      });
    });
  }

  count(kind: SaltKind): Promise<number> {
    return this.run(
      "count",
      async () => (await this.db.collection(COLLECTIONS[kind]).count().get()).data().count,
    );
  }

  private dueQuery(kind: SaltKind): Query {
    const cutoff = dueCutoff(this.deps.policy(), kind, this.deps.clock());
    return this.db.collection(COLLECTIONS[kind]).where("last_rotated", "<=", Timestamp.fromDate(cutoff));
  }

  countDue(kind: SaltKind): Promise<number> {
    return this.run("countDue", async () => (await this.dueQuery(kind).count().get()).data().count);
  }

  listDue(kind: SaltKind, page: { limit: number; cursor?: string | null }): Promise<Page<SaltRecord>> {
    return this.run("listDue", () =>
      this.duePage(kind, page, RECORD_FIELDS, (d) => parseSaltRecord(d.data())),
    );
  }

  scan(kind: SaltKind, page: { limit: number; cursor?: string | null }): Promise<Page<ScannedSalt>> {
    return this.run("scan", async () => {
      let query = this.db.collection(COLLECTIONS[kind]).orderBy(FieldPath.documentId());
      if (page.cursor) query = query.startAfter(decodeCursor(page.cursor).d);
      const snap = await query.limit(page.limit + 1).get();
      const docs = snap.docs.slice(0, page.limit);
      const parsed = docs.map((d) => ({ ref: d.ref, ...parseSaltDoc(d.data()) }));
      const previousRefs = parsed
        .filter((p) => p.record.version > 1)
        .map((p) => p.ref.collection(COLLECTIONS.versions).doc(String(p.record.version - 1)));
      const previous = previousRefs.length > 0 ? await this.db.getAll(...previousRefs) : [];
      const retained = new Map(
        previous
          .filter((s) => s.exists)
          .map((s) => [s.ref.parent.parent?.path ?? "", versionDocSchema.parse(s.data())] as const),
      );
      const now = this.deps.clock();
      const cipher = this.deps.cipher();
      const items = parsed.map(({ ref, record, enc }) => {
        let decrypts = true;
        try {
          cipher.decrypt(enc, saltAad(saltLocation(kind, record.id), record.version));
        } catch {
          decrypts = false;
        }
        const prev = retained.get(ref.path);
        return {
          record,
          decrypts,
          retainedPreviousHash: prev && prev.expire_at > now ? prev.salt_hash_prefix : null,
        };
      });
      const lastDoc = docs.at(-1);
      return {
        items,
        nextCursor: snap.size > page.limit && lastDoc ? encodeCursor({ t: 0, d: lastDoc.id }) : null,
      };
    });
  }

  repairNextRotation(kind: SaltKind, id: string, version: number, next: Date): Promise<boolean> {
    return this.run("repairNextRotation", () =>
      this.db.runTransaction(async (tx) => {
        const ref = this.saltRef(kind, id);
        const snap = await tx.get(ref);
        if (!snap.exists) return false;
        const { record } = parseSaltDoc(snap.data());
        if (record.version !== version || record.next_rotation.getTime() === next.getTime()) return false;
        tx.update(ref, { next_rotation: Timestamp.fromDate(next) });
        return true;
      }),
    );
  }

  purgeExpiredHistory(limit: number): Promise<number> {
    return this.run("purgeExpiredHistory", async () => {
      const now = Timestamp.fromDate(this.deps.clock());
      const snap = await this.db
        .collectionGroup(COLLECTIONS.versions)
        .where("expire_at", "<=", now)
        .limit(limit)
        .get();
      const writer = this.db.batch();
      for (const doc of snap.docs) writer.delete(doc.ref);
      if (!snap.empty) await writer.commit();
      return snap.size;
    });
  }

  private settingsRef() {
    return this.db.collection(COLLECTIONS.meta).doc(SETTINGS_DOC);
  }

  readSettings(): Promise<StoredSettings> {
    return this.run("readSettings", async () => {
      const snap = await this.settingsRef().get();
      return settingsSchema.parse(snap.exists ? snap.data() : {});
    });
  }

  writePendingSettings(pending: PendingSettings, audit: AuditContext): Promise<void> {
    return this.run("writePendingSettings", () =>
      this.db.runTransaction(async (tx) => {
        const now = this.deps.clock();
        const clean: Record<string, number> = {};
        if (pending.user_days !== undefined) clean.user_days = pending.user_days;
        if (pending.global_days !== undefined) clean.global_days = pending.global_days;
        tx.set(this.settingsRef(), { pending: clean }, { mergeFields: ["pending"] });
        this.writeAudit(
          tx,
          intervalsAudit(audit, {
            pending_user_days: pending.user_days ?? null,
            pending_global_days: pending.global_days ?? null,
          }),
          now,
        );
      }),
    );
  }

  activateSettings(
    intervals: { user_days: number; global_days: number },
    audit: AuditContext,
  ): Promise<ActiveSettings> {
    return this.run("activateSettings", () =>
      this.db.runTransaction(async (tx) => {
        const now = this.deps.clock();
        tx.set(
          this.settingsRef(),
          { active: { ...intervals, reloaded_at: Timestamp.fromDate(now) } },
          { mergeFields: ["active"] },
        );
        this.writeAudit(
          tx,
          intervalsAudit(audit, { user_days: intervals.user_days, global_days: intervals.global_days }),
          now,
        );
        return { ...intervals, reloaded_at: now };
      }),
    );
  }

  appendAudit(draft: AuditDraft): Promise<AuditEntry> {
    return this.run("appendAudit", async () => {
      const entry: AuditEntry = { ...draft, id: randomUUID(), at: this.deps.clock().toISOString() };
      await this.db.collection(COLLECTIONS.audit).doc(entry.id).create(auditDocData(entry));
      return entry;
    });
  }

  listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return this.run("listAudit", async () => {
      let q: Query = this.db.collection(COLLECTIONS.audit);
      if (query.targetId !== undefined) q = q.where("target.id", "==", query.targetId);
      if (query.operation !== undefined) q = q.where("operation", "==", query.operation);
      q = q.orderBy("at", "desc").orderBy(FieldPath.documentId(), "desc");
      if (query.cursor) {
        const c = decodeCursor(query.cursor);
        q = q.startAfter(Timestamp.fromMillis(c.t), c.d);
      }
      const snap = await q.limit(query.limit + 1).get();
      const docs = snap.docs.slice(0, query.limit);
      const items = docs.map((d) => parseAuditDoc(d.data()));
      const last = items.at(-1);
      return {
        items,
        nextCursor:
          snap.size > query.limit && last ? encodeCursor({ t: Date.parse(last.at), d: last.id }) : null,
      };
    });
  }
}
