import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import type { ChainHead } from "../../domain/auditChain";
import type { Checkpoint, CheckpointStore } from "../../ports/saltStore";
import { guarded } from "./errors";
import { COLLECTIONS } from "./schema";

const checkpointSchema = z.object({
  id: z.string(),
  at: z.instanceof(Timestamp).transform((t) => t.toDate()),
  chains: z.number(),
  digest: z.string(),
  pages: z.number(),
});
const pageSchema = z.object({
  heads: z.array(z.object({ chain: z.string(), seq: z.number(), mac: z.string() })),
});

/**
 * Checkpoints in `salts_audit_checkpoints/{id}` (summary, written last) with
 * their heads in `pages/{n}`, a few hundred per page.
 */
export abstract class FirestoreCheckpoints implements CheckpointStore {
  constructor(
    protected readonly db: Firestore,
    protected readonly timeoutMs: number,
  ) {}

  private doc(id: string) {
    return this.db.collection(COLLECTIONS.checkpoints).doc(id);
  }

  putCheckpointPage(id: string, n: number, heads: { chain: string; head: ChainHead }[]): Promise<void> {
    return guarded("checkpoint.page", this.timeoutMs, async () => {
      const data = { heads: heads.map((h) => ({ chain: h.chain, seq: h.head.seq, mac: h.head.mac })) };
      await this.doc(id).collection("pages").doc(String(n)).set(data);
    });
  }

  finishCheckpoint(c: Checkpoint): Promise<void> {
    return guarded("checkpoint.finish", this.timeoutMs, async () => {
      await this.doc(c.id).set({ ...c, at: Timestamp.fromDate(c.at) });
    });
  }

  latestCheckpoints(limit: number): Promise<Checkpoint[]> {
    return guarded("checkpoint.latest", this.timeoutMs, async () => {
      const snap = await this.db.collection(COLLECTIONS.checkpoints).orderBy("at", "desc").limit(limit).get();
      return snap.docs.map((d) => checkpointSchema.parse(d.data()));
    });
  }

  checkpointPage(id: string, n: number): Promise<{ chain: string; head: ChainHead }[]> {
    return guarded("checkpoint.read", this.timeoutMs, async () => {
      const snap = await this.doc(id).collection("pages").doc(String(n)).get();
      if (!snap.exists) return [];
      return pageSchema
        .parse(snap.data())
        .heads.map((h) => ({ chain: h.chain, head: { seq: h.seq, mac: h.mac } }));
    });
  }
}
