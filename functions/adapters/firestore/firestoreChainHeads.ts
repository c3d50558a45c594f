import { FieldPath, type DocumentData, type DocumentSnapshot, type Query } from "firebase-admin/firestore";
import { bindings, saltOfChain, sealHead, type AuditKey, type SealedHead } from "../../domain/auditChain";
import { encodeDocId, SALT_KINDS } from "../../domain/ids";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import type { HeadRecord, PageRequest } from "../../ports/saltStore";
import { guarded } from "./errors";
import { FirestoreCheckpoints } from "./firestoreCheckpoints";
import { chainDocSchema, COLLECTIONS } from "./schema";

const TARGET_KINDS = ["user", "global", "job", "config", "system"] as const;

/** A chain document's head; one that is not well-formed reads as an unauthenticated empty head (a break). */
function chainDocHead(d: DocumentSnapshot): HeadRecord {
  const parsed = chainDocSchema.safeParse(d.data());
  const head: SealedHead = parsed.success ? parsed.data.head : { seq: 0, mac: "" };
  return { chain: d.id, head, bound: saltOfChain(d.id) ? bindings.erased : bindings.log };
}

/** A live salt document's head for `chain`, bound to the salt's version and rotation count, or null. */
function saltDocHead(chain: string, data: DocumentData | undefined): HeadRecord | null {
  const stored = data?.chain as { id?: unknown; head?: SealedHead | null } | undefined;
  if (stored?.id !== chain || !stored.head) return null;
  const version = Number(data!.version);
  const rotationCount = Number(data!.rotation_count);
  return { chain, head: stored.head, bound: bindings.live({ version, rotation_count: rotationCount }) };
}

/**
 * Where chain heads are kept: a live salt's in its document (bound to its
 * version and rotation count), every other chain's (erased salts' included) in
 * `salts_audit_chains/{chain}`. Reads only; the writes happen with the changes.
 */
export abstract class FirestoreChainHeads extends FirestoreCheckpoints {
  protected chainRef(chain: string) {
    return this.db.collection(COLLECTIONS.chains).doc(chain);
  }

  headOf(chain: string): Promise<HeadRecord | null> {
    return guarded("headOf", this.timeoutMs, async () => {
      const salt = saltOfChain(chain);
      if (salt) {
        // A live salt keeps its chain's head; an erased one left it in a chain document.
        const doc = await this.db.collection(COLLECTIONS[salt.kind]).doc(salt.docId).get();
        const live = saltDocHead(chain, doc.data());
        if (live) return live;
      }
      const snap = await this.chainRef(chain).get();
      return snap.exists ? chainDocHead(snap) : null;
    });
  }

  listChainHeads(page: PageRequest): Promise<Page<HeadRecord>> {
    return guarded("listChainHeads", this.timeoutMs, async () => {
      let q: Query = this.db.collection(COLLECTIONS.chains).orderBy(FieldPath.documentId());
      if (page.cursor) q = q.startAfter(decodeCursor(page.cursor).d);
      const snap = await q.limit(page.limit + 1).get();
      return toPage(snap.docs, page.limit, chainDocHead, (d) => ({ t: 0, d: d.id }));
    });
  }

  sealLegacyHead(record: HeadRecord, key: AuditKey): Promise<boolean> {
    return guarded("sealLegacyHead", this.timeoutMs, () =>
      this.db.runTransaction(async (tx) => {
        const salt = saltOfChain(record.chain);
        const saltRef = salt && this.db.collection(COLLECTIONS[salt.kind]).doc(salt.docId);
        const live = saltRef ? saltDocHead(record.chain, (await tx.get(saltRef)).data()) : null;
        const found =
          live ??
          (await tx.get(this.chainRef(record.chain)).then((d) => (d.exists ? chainDocHead(d) : null)));
        const { head } = record;
        if (
          !found ||
          found.head.auth !== undefined ||
          found.head.seq !== head.seq ||
          found.head.mac !== head.mac
        )
          return false;
        const sealed = sealHead(record.chain, head, found.bound, key);
        if (live) tx.update(saltRef!, { "chain.head": sealed });
        else tx.update(this.chainRef(record.chain), { head: sealed });
        return true;
      }),
    );
  }

  chainsHeldFor(targetId: string): Promise<string[]> {
    return guarded("chainsHeldFor", this.timeoutMs, async () => {
      const enc = encodeDocId(targetId);
      const chainDocs = this.db.collection(COLLECTIONS.chains);
      const [salts, logs, ...erased] = await Promise.all([
        this.db.getAll(...SALT_KINDS.map((k) => this.db.collection(COLLECTIONS[k]).doc(enc))),
        this.db.getAll(...TARGET_KINDS.map((k) => chainDocs.doc(`log:${k}:${enc}`))),
        // Erased incarnations' chains: `salt:<kind>:<id>:<incarnation>`, found by id prefix.
        ...SALT_KINDS.map((k) =>
          chainDocs
            .where(FieldPath.documentId(), ">=", `salt:${k}:${enc}:`)
            .where(FieldPath.documentId(), "<", `salt:${k}:${enc};`)
            .select()
            .get(),
        ),
      ]);
      const found = new Set<string>();
      for (const s of salts) {
        const id = (s.get("chain") as { id?: unknown } | undefined)?.id;
        if (typeof id === "string") found.add(id);
      }
      for (const l of logs) if (l.exists) found.add(l.id);
      for (const q of erased) for (const d of q!.docs) found.add(d.id);
      return [...found].sort();
    });
  }
}
