import type { Firestore } from "firebase-admin/firestore";
import { COLLECTIONS, saltDocData } from "../functions/adapters/firestore/schema";
import { chains } from "../functions/domain/auditChain";
import { saltAad, sealSalt, shredAad, type EncryptionKey } from "../functions/domain/encryption";
import { encodeDocId, indexShard } from "../functions/domain/ids";
import { DEFAULT_POLICY } from "../functions/domain/policy";
import { planCreate, saltPlace } from "../functions/domain/rotation";
import type { SaltRecord } from "../functions/domain/salt";

/** A salt document as the service writes it, for seeding storage directly. */
export function rawSaltDoc(
  record: SaltRecord,
  salt: Buffer,
  shred: Buffer | null,
  key: EncryptionKey,
  now: Date,
): Record<string, unknown> {
  const chain = chains.salt(record.kind, record.id, "seed");
  const place = saltPlace(record.kind, record.id, chain);
  return saltDocData(
    record,
    {
      salt: sealSalt(key, salt, saltAad(place, record.version)),
      shred: shred ? sealSalt(key, shred, shredAad(place)) : null,
      keyVersions: [key.version],
      chain: { id: chain, head: null },
      shard: indexShard(encodeDocId(record.id)),
    },
    now,
  );
}

/** Writes `n` user salts last rotated 200 days ago, 500 per batch, encrypted as the service would. */
export async function seedDueUsers(
  db: Firestore,
  key: EncryptionKey,
  prefix: string,
  n: number,
): Promise<void> {
  const old = new Date(Date.now() - 200 * 24 * 60 * 60 * 1000);
  for (let start = 0; start < n; start += 500) {
    const batch = db.batch();
    for (let i = start; i < Math.min(n, start + 500); i++) {
      const id = `${prefix}-${i}`;
      const plan = planCreate("user", id, old, DEFAULT_POLICY);
      batch.set(
        db.collection(COLLECTIONS.user).doc(encodeDocId(id)),
        rawSaltDoc(plan.record, plan.salt, plan.shred, key, old),
      );
    }
    await batch.commit();
  }
}
