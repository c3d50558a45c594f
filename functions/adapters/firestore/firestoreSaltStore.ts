import { Timestamp, type DocumentReference, type Transaction } from "firebase-admin/firestore";
import type { AuditDraft } from "../../domain/audit";
import { saltAad, type EncryptedSalt } from "../../domain/encryption";
import type { SaltKind } from "../../domain/ids";
import { decideRotation, planCreate, saltLocation } from "../../domain/rotation";
import type { LoadedSalt, SaltRecord, SaltVersionInfo } from "../../domain/salt";
import type {
  AuditContext,
  BatchRotateItem,
  EraseOutcome,
  ListedSalt,
  RotateOutcome,
  RotateRequest,
  SaltStore,
} from "../../ports/saltStore";
import { MAX_BATCH_ROTATIONS } from "../../ports/saltStore";
import { stageAudit } from "./firestoreAudit";
import { FirestoreSaltListing, type FirestoreHandle } from "./firestoreSaltListing";
import { COLLECTIONS, parseSaltDoc, saltDocData, versionDocData, versionDocSchema } from "./schema";

/** Where a rotation stages its writes: a transaction, or a batch with a precondition on the salt. */
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

/**
 * Salts in Firestore. Each salt is one document in `salts_user` / `salts_global`
 * (id encoded by `encodeDocId`), retired versions in its `salt_versions`
 * subcollection with a TTL field. Every change commits with its audit entry.
 */
export class FirestoreSaltStore extends FirestoreSaltListing implements SaltStore {
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
        if (audit) stageAudit(this.db, tx, { ...audit, target: { kind, id }, result: "success" }, now);
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

  /** Decides one rotation from what was read and stages its writes (salt, retired version, audit entry). */
  private applyRotation(
    writer: RotationWriter,
    kind: SaltKind,
    id: string,
    current: { record: SaltRecord; enc: EncryptedSalt } | null,
    request: RotateRequest,
    now: Date,
  ): RotateOutcome {
    const context = { now, policy: this.deps.policy(), retentionDays: this.deps.retentionDays() };
    const decision = decideRotation(kind, id, current?.record ?? null, request, context);
    if (decision.type === "skip")
      return { status: "skipped", reason: decision.reason, record: current?.record ?? null };
    const ref = this.saltRef(kind, id);
    const { record, salt } = decision.plan;
    const enc = this.deps.cipher().encrypt(salt, saltAad(saltLocation(kind, id), record.version));
    if (decision.type === "create") writer.create(ref, saltDocData(record, enc, now));
    else {
      const { retired, retiredExpiresAt } = decision.plan;
      // The retired ciphertext moves unchanged: its associated data names the salt and version, not the document.
      writer.set(
        ref.collection(COLLECTIONS.versions).doc(String(retired.version)),
        versionDocData(retired, current!.enc, retiredExpiresAt),
      );
      writer.replaceSalt(ref, saltDocData(record, enc, now));
    }
    const draft: AuditDraft = {
      ...request.audit,
      target: { kind, id },
      result: "success",
      rotation_id: request.rotationId,
    };
    stageAudit(this.db, writer, draft, now);
    const status = decision.type === "create" ? "created" : "rotated";
    return { status, record, rotationId: request.rotationId };
  }

  rotate(kind: SaltKind, id: string, request: RotateRequest): Promise<RotateOutcome> {
    return this.run("rotate", () =>
      this.db.runTransaction(async (tx) => {
        const snap = await tx.get(this.saltRef(kind, id));
        // Time is read inside the attempt so a retried transaction decides afresh.
        const now = this.deps.clock();
        return this.applyRotation(inTransaction(tx), kind, id, parsedOrNull(snap.data()), request, now);
      }),
    );
  }

  rotateMany(items: BatchRotateItem[]): Promise<RotateOutcome[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (items.length > MAX_BATCH_ROTATIONS)
      throw new Error(`at most ${MAX_BATCH_ROTATIONS} rotations per commit`);
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

  rotateListed(items: { listed: ListedSalt; request: RotateRequest }[]): Promise<RotateOutcome[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (items.length > MAX_BATCH_ROTATIONS)
      throw new Error(`at most ${MAX_BATCH_ROTATIONS} rotations per commit`);
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
        const details = { versions_destroyed: versionsDestroyed };
        const draft: AuditDraft = {
          ...audit,
          target: { kind, id },
          result: "success",
          rotation_id: rotationId,
          details,
        };
        stageAudit(this.db, tx, draft, this.deps.clock());
        return { erased: versionsDestroyed > 0, versionsDestroyed };
      });
    });
  }
}
