import { FieldPath, Timestamp, type Query, type QueryDocumentSnapshot } from "firebase-admin/firestore";
import { saltAad, type EncryptedSalt } from "../../domain/encryption";
import type { SaltKind } from "../../domain/ids";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import { dueCutoff } from "../../domain/policy";
import { saltLocation } from "../../domain/rotation";
import type { SaltRecord } from "../../domain/salt";
import type { ListedSalt, PageRequest, ScannedSalt } from "../../ports/saltStore";
import { FirestoreSaltBase } from "./firestoreSaltBase";
import { COLLECTIONS, parseSaltDoc, parseSaltRecord, RECORD_FIELDS, versionDocSchema } from "./schema";

/** What a Firestore listing remembers of a salt: its ciphertext and the exact version of the document read. */
export interface FirestoreHandle {
  enc: EncryptedSalt;
  updateTime: Timestamp;
}

/** Counting, listing, scanning and repairing salts: the reads of jobs, status and the sweep. */
export abstract class FirestoreSaltListing extends FirestoreSaltBase {
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

  /** One page of due salts, oldest rotation first; `fields` limits what is read. */
  private async duePage<T>(
    kind: SaltKind,
    page: PageRequest,
    fields: readonly string[] | null,
    toItem: (doc: QueryDocumentSnapshot) => T,
  ): Promise<Page<T>> {
    let query = this.dueQuery(kind);
    if (fields) query = query.select(...fields);
    query = query.orderBy("last_rotated").orderBy(FieldPath.documentId());
    if (page.cursor) {
      const c = decodeCursor(page.cursor);
      query = query.startAfter(Timestamp.fromMillis(c.t), c.d);
    }
    const snap = await query.limit(page.limit + 1).get();
    return toPage(snap.docs, page.limit, toItem, (d) => ({
      t: (d.get("last_rotated") as Timestamp).toMillis(),
      d: d.id,
    }));
  }

  listDue(kind: SaltKind, page: PageRequest): Promise<Page<SaltRecord>> {
    return this.run("listDue", () =>
      this.duePage(kind, page, RECORD_FIELDS, (d) => parseSaltRecord(d.data())),
    );
  }

  listDueForRotation(kind: SaltKind, page: PageRequest): Promise<Page<ListedSalt>> {
    return this.run("listDueForRotation", () =>
      this.duePage(kind, page, null, (d) => {
        const { record, enc } = parseSaltDoc(d.data());
        const handle: FirestoreHandle = { enc, updateTime: d.updateTime };
        return { record, handle };
      }),
    );
  }

  /** Documents of a kind in id order after the cursor. */
  private async docPage(kind: SaltKind, page: PageRequest, fields: readonly string[] | null) {
    let query: Query = this.db.collection(COLLECTIONS[kind]);
    if (fields) query = query.select(...fields);
    query = query.orderBy(FieldPath.documentId());
    if (page.cursor) query = query.startAfter(decodeCursor(page.cursor).d);
    return (await query.limit(page.limit + 1).get()).docs;
  }

  list(kind: SaltKind, page: PageRequest): Promise<Page<SaltRecord>> {
    return this.run("list", async () =>
      toPage(
        await this.docPage(kind, page, RECORD_FIELDS),
        page.limit,
        (d) => parseSaltRecord(d.data()),
        (d) => ({ t: 0, d: d.id }),
      ),
    );
  }

  scan(kind: SaltKind, page: PageRequest): Promise<Page<ScannedSalt>> {
    return this.run("scan", async () => {
      const docs = await this.docPage(kind, page, null);
      const parsed = docs.slice(0, page.limit).map((d) => ({ ref: d.ref, ...parseSaltDoc(d.data()) }));
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
      const byPath = new Map(parsed.map((p) => [p.ref.path, p]));
      return toPage(
        docs,
        page.limit,
        (d) => {
          const { record, enc } = byPath.get(d.ref.path)!;
          let decrypts = true;
          try {
            cipher.decrypt(enc, saltAad(saltLocation(kind, record.id), record.version));
          } catch {
            decrypts = false;
          }
          const prev = retained.get(d.ref.path);
          return {
            record,
            decrypts,
            retainedPreviousHash: prev && prev.expire_at > now ? prev.salt_hash_prefix : null,
          };
        },
        (d) => ({ t: 0, d: d.id }),
      );
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
}
