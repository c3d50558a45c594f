import type { Firestore } from "firebase-admin/firestore";
import { COLLECTIONS, saltDocData } from "../functions/adapters/firestore/schema";
import { saltAad, type SaltCipher } from "../functions/domain/encryption";
import { encodeDocId } from "../functions/domain/ids";
import { DEFAULT_POLICY } from "../functions/domain/policy";
import { planCreate, saltLocation } from "../functions/domain/rotation";

/** Writes `n` user salts last rotated 200 days ago, 500 per batch, encrypted as the service would. */
export async function seedDueUsers(
  db: Firestore,
  cipher: SaltCipher,
  prefix: string,
  n: number,
): Promise<void> {
  const old = new Date(Date.now() - 200 * 24 * 60 * 60 * 1000);
  for (let start = 0; start < n; start += 500) {
    const batch = db.batch();
    for (let i = start; i < Math.min(n, start + 500); i++) {
      const id = `${prefix}-${i}`;
      const plan = planCreate("user", id, old, DEFAULT_POLICY);
      const enc = cipher.encrypt(plan.salt, saltAad(saltLocation("user", id), 1));
      batch.set(db.collection(COLLECTIONS.user).doc(encodeDocId(id)), saltDocData(plan.record, enc, old));
    }
    await batch.commit();
  }
}
