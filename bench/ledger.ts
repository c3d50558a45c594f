import type { Firestore } from "firebase-admin/firestore";
import { COLLECTIONS, parseSaltRecord } from "../functions/adapters/firestore/schema";
import { encodeDocId } from "../functions/domain/ids";

/** One acknowledged rotation: what the caller was told. */
export interface Ack {
  rotationId: string;
  version: number;
}

export interface LedgerCheck {
  acked: number;
  /** Acknowledged rotations with no stored trace (count, version or audit entry). */
  lost: number;
  /** Two acknowledgements naming one version, or an audit entry stored twice. */
  duplicated: number;
}

/**
 * Checks what callers were told against what is stored for each salt: the
 * rotation_count grew by exactly the acknowledged count, every acknowledged
 * version is distinct and retired or current, and every acknowledged rotation
 * id has exactly one audit entry.
 */
export async function checkLedger(
  db: Firestore,
  before: Map<string, number>,
  acks: Map<string, Ack[]>,
): Promise<LedgerCheck> {
  const out: LedgerCheck = { acked: 0, lost: 0, duplicated: 0 };
  for (const [id, initial] of before) {
    const mine = acks.get(id) ?? [];
    out.acked += mine.length;
    const ref = db.collection(COLLECTIONS.user).doc(encodeDocId(id));
    const record = parseSaltRecord((await ref.get()).data());
    const grown = record.rotation_count - initial;
    if (grown < mine.length) out.lost += mine.length - grown;
    const versions = new Set(mine.map((a) => a.version));
    out.duplicated += mine.length - versions.size;
    const retired = await ref.collection(COLLECTIONS.versions).select().get();
    const stored = new Set([...retired.docs.map((d) => Number(d.id)), record.version]);
    out.lost += [...versions].filter((v) => !stored.has(v)).length;
    const entries = await db
      .collection(COLLECTIONS.audit)
      .where("target.id", "==", id)
      .select("rotation_id")
      .get();
    const seen = new Map<string, number>();
    for (const d of entries.docs) {
      const rid = d.get("rotation_id") as string | undefined;
      if (rid) seen.set(rid, (seen.get(rid) ?? 0) + 1);
    }
    for (const a of mine) {
      const n = seen.get(a.rotationId) ?? 0;
      if (n === 0) out.lost++;
      if (n > 1) out.duplicated += n - 1;
    }
  }
  return out;
}

export function ledgerLine(c: LedgerCheck): string {
  const ok = c.lost === 0 && c.duplicated === 0;
  return `ledger: ${c.acked} acknowledged, ${c.lost} lost, ${c.duplicated} duplicated${ok ? " (nothing lost)" : " (FAILED)"}`;
}
