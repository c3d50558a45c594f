import type { Readable } from "node:stream";
import { FieldPath, Timestamp, type Query, type QueryDocumentSnapshot } from "firebase-admin/firestore";
import { erasedIncarnation, openWith, saltAad, shredAad, type EncryptedSalt } from "../../domain/encryption";
import { ALL_SHARDS, type SaltKind } from "../../domain/ids";
import { decodeCursor, mapStream, toPage, type Page } from "../../domain/paging";
import { saltPlace } from "../../domain/rotation";
import type { SaltRecord } from "../../domain/salt";
import type { ListedSalt, PageRequest, ScannedSalt } from "../../ports/saltStore";
import { resumingStream, transactGuarded } from "./errors";
import { FirestoreSaltBase, isErasedCopy, type SaltRead } from "./firestoreSaltBase";
import {
  COLLECTIONS,
  isLegacySalt,
  parseSaltDoc,
  parseSaltRecord,
  RECORD_FIELDS,
  versionDocSchema,
} from "./schema";

/** What a Firestore listing remembers of a salt: the document as read, and its exact version. */
export interface FirestoreHandle {
  data: unknown;
  updateTime: Timestamp;
}

/** Values one array-contains-any filter may take (Firestore's limit). */
const ARRAY_ANY_MAX = 30;

/**
 * Counting, listing, scanning and repairing salts: the reads of jobs, status and
 * the sweep. Time-ordered queries ask every index shard at once (`shard in`), so
 * the monotonically increasing `next_rotation` is indexed only together with a
 * shard and its writes spread over INDEX_SHARDS ranges.
 */
export abstract class FirestoreSaltListing extends FirestoreSaltBase {
  private collection(kind: SaltKind) {
    return this.db.collection(COLLECTIONS[kind]);
  }

  private dueBefore(kind: SaltKind, until: Date): Query {
    return this.collection(kind)
      .where("shard", "in", [...ALL_SHARDS])
      .where("next_rotation", "<=", Timestamp.fromDate(until));
  }

  count(kind: SaltKind): Promise<number> {
    return this.run("count", async () => (await this.collection(kind).count().get()).data().count);
  }

  countDue(kind: SaltKind): Promise<number> {
    return this.run(
      "countDue",
      async () => (await this.dueBefore(kind, this.deps.clock()).count().get()).data().count,
    );
  }

  countDueBetween(kind: SaltKind, from: Date, to: Date): Promise<number> {
    return this.run("countDueBetween", async () => {
      const q = this.collection(kind)
        .where("shard", "in", [...ALL_SHARDS])
        .where("next_rotation", ">=", Timestamp.fromDate(from))
        .where("next_rotation", "<", Timestamp.fromDate(to));
      return (await q.count().get()).data().count;
    });
  }

  /** Salts due now, earliest due first (the document id breaks ties). */
  private dueInOrder(kind: SaltKind): Query {
    return this.dueBefore(kind, this.deps.clock()).orderBy("next_rotation").orderBy(FieldPath.documentId());
  }

  listDue(kind: SaltKind, page: PageRequest): Promise<Page<SaltRecord>> {
    return this.run("listDue", async () => {
      let query = this.dueInOrder(kind).select(...RECORD_FIELDS);
      if (page.cursor) {
        const c = decodeCursor(page.cursor);
        query = query.startAfter(Timestamp.fromMillis(c.t), c.d);
      }
      const snap = await query.limit(page.limit + 1).get();
      return toPage(
        snap.docs,
        page.limit,
        (d) => parseSaltRecord(d.data()),
        (d) => ({ t: (d.get("next_rotation") as Timestamp).toMillis(), d: d.id }),
      );
    });
  }

  /** Due salts as one streamed query, resumed after the last salt read if it fails part-way. */
  dueForRotation(kind: SaltKind, limit: number): AsyncGenerator<ListedSalt> {
    const due = this.dueInOrder(kind);
    const docs = resumingStream<QueryDocumentSnapshot>(
      "dueForRotation",
      this.timeoutMs,
      limit,
      (after, left) => (after ? due.startAfter(after) : due).limit(left).stream() as Readable,
    );
    return mapStream(docs, (doc) => {
      const handle: FirestoreHandle = { data: doc.data(), updateTime: doc.updateTime };
      return { record: parseSaltRecord(handle.data), handle };
    });
  }

  /** Documents of a kind in id order after the cursor, optionally filtered. */
  private async docPage(
    kind: SaltKind,
    page: PageRequest,
    fields: readonly string[] | null,
    filter: (q: Query) => Query = (q) => q,
  ) {
    let query = filter(this.collection(kind));
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

  keyVersionsInUse(kind: SaltKind, versions: number[]): Promise<number[]> {
    return this.run("keyVersionsInUse", async () => {
      const used = await Promise.all(
        versions.map(async (v) => {
          const q = this.collection(kind).where("key_versions", "array-contains", v).select().limit(1);
          return (await q.get()).empty ? null : v;
        }),
      );
      return used.filter((v): v is number => v !== null);
    });
  }

  /**
   * The key versions below `current` to look for: array-contains-any takes at most 30 values, so when
   * more than 30 lie below, the oldest 30 of those still in use (one rewrap run drains them; if more
   * than 30 old versions are in use at once, a second run takes the rest, and status lists them).
   */
  private async older(kind: SaltKind, current: number): Promise<number[]> {
    const below = Array.from({ length: current - 1 }, (_, i) => i + 1);
    if (below.length <= ARRAY_ANY_MAX) return below;
    return (await this.keyVersionsInUse(kind, below)).slice(0, ARRAY_ANY_MAX);
  }

  countNeedingRewrap(kind: SaltKind, current: number): Promise<number> {
    return this.run("countNeedingRewrap", async () => {
      const older = await this.older(kind, current);
      if (older.length === 0) return 0;
      const q = this.collection(kind).where("key_versions", "array-contains-any", older);
      return (await q.count().get()).data().count;
    });
  }

  listNeedingRewrap(kind: SaltKind, current: number, page: PageRequest): Promise<Page<SaltRecord>> {
    return this.run("listNeedingRewrap", async () => {
      const older = await this.older(kind, current);
      if (older.length === 0) return { items: [], nextCursor: null };
      const docs = await this.docPage(kind, page, RECORD_FIELDS, (q) =>
        q.where("key_versions", "array-contains-any", older),
      );
      return toPage(
        docs,
        page.limit,
        (d) => parseSaltRecord(d.data()),
        (d) => ({ t: 0, d: d.id }),
      );
    });
  }

  scan(kind: SaltKind, page: PageRequest): Promise<Page<ScannedSalt>> {
    return this.run("scan", async () => {
      const docs = await this.docPage(kind, page, null);
      const kept = docs.slice(0, page.limit);
      const parsed = kept.map((d) => ({ ref: d.ref, raw: d.data(), ...parseSaltDoc(d.data()) }));
      const retiredRefs = parsed.flatMap((p) =>
        p.record.version > 1
          ? [p.ref.collection(COLLECTIONS.versions).doc(String(p.record.version - 1))]
          : [],
      );
      const retired = retiredRefs.length > 0 ? await this.db.getAll(...retiredRefs) : [];
      const previous = new Map(
        retired
          .filter((s) => s.exists)
          .map((s) => [s.ref.parent.parent?.path ?? "", versionDocSchema.parse(s.data())]),
      );
      const now = this.deps.clock();
      const erased = await this.erasureRecords(kind, kept);
      const items = await Promise.all(
        parsed.map(async (p, n): Promise<ScannedSalt> => {
          const prev = previous.get(p.ref.path);
          const copy = isErasedCopy({ snap: kept[n]!, erased: erased.get(kept[n]!.id) ?? null });
          const problem = copy
            ? erasedIncarnation().message
            : await this.decryptProblem(kind, p.record, p.salt, p.shred, p.chain?.id);
          return {
            record: p.record,
            decrypts: problem === null,
            ...(problem ? { decryptProblem: problem } : {}),
            keyVersions: p.key_versions,
            retainedPreviousHash: prev && prev.expire_at > now ? prev.salt_hash_prefix : null,
            chain: p.chain,
            legacy: !copy && isLegacySalt(kind, p.raw),
          };
        }),
      );
      const byPath = new Map(parsed.map((p, i) => [p.ref.path, items[i]!]));
      return toPage(
        docs,
        page.limit,
        (d) => byPath.get(d.ref.path)!,
        (d) => ({ t: 0, d: d.id }),
      );
    });
  }

  /** The erasure records of a page of salts, by salt document id (few exist: queried, not read one by one). */
  private async erasureRecords(
    kind: SaltKind,
    docs: { id: string }[],
  ): Promise<Map<string, SaltRead["erased"]>> {
    const found = new Map<string, SaltRead["erased"]>();
    for (let i = 0; i < docs.length; i += ARRAY_ANY_MAX) {
      const ids = docs.slice(i, i + ARRAY_ANY_MAX).map((d) => `${kind}:${d.id}`);
      const snap = await this.db
        .collection(COLLECTIONS.erased)
        .where(FieldPath.documentId(), "in", ids)
        .get();
      for (const d of snap.docs) {
        const incarnations = d.get("incarnations") as unknown;
        found.set(d.id.slice(kind.length + 1), {
          incarnations: Array.isArray(incarnations) ? (incarnations as string[]) : [],
          chainless: d.get("chainless") === true,
        });
      }
    }
    return found;
  }

  private async decryptProblem(
    kind: SaltKind,
    record: SaltRecord,
    salt: EncryptedSalt,
    shred: EncryptedSalt | null,
    chainId: string | undefined,
  ): Promise<string | null> {
    const place = saltPlace(kind, record.id, chainId);
    try {
      await openWith(this.deps.keys, salt, saltAad(place, record.version));
      if (shred) await openWith(this.deps.keys, shred, shredAad(place));
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  repairNextRotation(kind: SaltKind, id: string, version: number, next: Date): Promise<boolean> {
    return this.run("repairNextRotation", (guard) =>
      transactGuarded(this.db, guard, async (tx) => {
        const ref = this.saltRef(kind, id);
        const snap = await tx.get(ref);
        if (!snap.exists) return false;
        const record = parseSaltRecord(snap.data());
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
        .where("shard", "in", [...ALL_SHARDS])
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
