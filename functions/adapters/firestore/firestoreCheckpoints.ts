import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import type { CheckpointPage, CheckpointSummary } from "../../domain/auditLedger";
import { MALFORMED, type CheckpointStore } from "../../ports/saltStore";
import { guarded } from "./errors";
import { COLLECTIONS } from "./schema";

const summarySchema = z.object({
  id: z.string(),
  seq: z.number().int().min(1),
  prev: z.string().nullable(),
  at: z.instanceof(Timestamp).transform((t) => t.toDate()),
  chains: z.number().int().min(0),
  pages: z.number().int().min(0),
  digest: z.string(),
  key_version: z.number().int().min(1),
  mac: z.string(),
});
const pageSchema = z.object({
  n: z.number().int().min(0),
  heads: z.array(z.object({ chain: z.string(), seq: z.number(), mac: z.string() })),
  prev_digest: z.string(),
  digest: z.string(),
  key_version: z.number().int().min(1),
  mac: z.string(),
});

// Checkpoints of this ledger have a `seq` and ids `ckpt_<seq>`; earlier releases' (`cp_...`, no `seq`) are outside it.

function summaryOf(id: string, data: unknown): CheckpointSummary | typeof MALFORMED {
  const parsed = summarySchema.safeParse(data);
  return parsed.success && parsed.data.id === id ? parsed.data : MALFORMED;
}

/**
 * Checkpoints in `salts_audit_checkpoints/{ckpt_<seq>}` (summary, written last,
 * never overwritten) with their heads in `pages/{n}`, a few hundred per page.
 */
export abstract class FirestoreCheckpoints implements CheckpointStore {
  constructor(
    protected readonly db: Firestore,
    protected readonly timeoutMs: number,
  ) {}

  private doc(id: string) {
    return this.db.collection(COLLECTIONS.checkpoints).doc(id);
  }

  putCheckpointPage(id: string, page: CheckpointPage): Promise<void> {
    return guarded("checkpoint.page", this.timeoutMs, async () => {
      await this.doc(id).collection("pages").doc(String(page.n)).set(page);
    });
  }

  finishCheckpoint(c: CheckpointSummary): Promise<boolean> {
    return guarded("checkpoint.finish", this.timeoutMs, async () => {
      try {
        await this.doc(c.id).create({ ...c, at: Timestamp.fromDate(c.at) });
        return true;
      } catch (e) {
        if ((e as { code?: number }).code === 6) return false; // ALREADY_EXISTS
        throw e;
      }
    });
  }

  listCheckpoints(page: {
    limit: number;
    beforeSeq?: number | undefined;
  }): Promise<(CheckpointSummary | { id: string; seq: number; malformed: true })[]> {
    return guarded("checkpoint.list", this.timeoutMs, async () => {
      // By sequence number (Firestore scans document ids in ascending order only). A checkpoint whose
      // `seq` was removed drops out of this order: the ledger then finds the gap it leaves.
      let q = this.db.collection(COLLECTIONS.checkpoints).orderBy("seq", "desc");
      if (page.beforeSeq !== undefined) q = q.where("seq", "<", page.beforeSeq);
      const snap = await q.limit(page.limit).get();
      return snap.docs.map((d) => {
        const s = summaryOf(d.id, d.data());
        const seq = d.get("seq") as unknown;
        return s === MALFORMED
          ? { id: d.id, seq: typeof seq === "number" ? seq : NaN, malformed: true as const }
          : s;
      });
    });
  }

  getCheckpoint(id: string): Promise<CheckpointSummary | typeof MALFORMED | null> {
    return guarded("checkpoint.get", this.timeoutMs, async () => {
      const snap = await this.doc(id).get();
      return snap.exists ? summaryOf(id, snap.data()) : null;
    });
  }

  checkpointPage(id: string, n: number): Promise<CheckpointPage | typeof MALFORMED | null> {
    return guarded("checkpoint.read", this.timeoutMs, async () => {
      const snap = await this.doc(id).collection("pages").doc(String(n)).get();
      if (!snap.exists) return null;
      const parsed = pageSchema.safeParse(snap.data());
      return parsed.success ? parsed.data : MALFORMED;
    });
  }
}
