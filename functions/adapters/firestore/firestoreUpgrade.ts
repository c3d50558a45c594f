import type { Firestore } from "firebase-admin/firestore";
import { chains } from "../../domain/auditChain";
import { generateSalt } from "../../domain/crypto";
import {
  legacyKeyVersion,
  needsBinding,
  openWith,
  saltAad,
  sealSalt,
  shredAad,
  type Aad,
  type EncryptedSalt,
} from "../../domain/encryption";
import { encodeDocId, indexShard, type SaltKind } from "../../domain/ids";
import { saltPlace } from "../../domain/rotation";
import { commitGuarded } from "./errors";
import { FirestoreRewrap } from "./firestoreRewrap";
import { newIncarnation } from "./firestoreSaltBase";
import { COLLECTIONS, isLegacySalt, parseSaltDoc, versionDocSchema } from "./schema";

/**
 * Brings a salt written by an earlier release up to this one, in one
 * transaction: its index shard, the key version of every ciphertext (found by
 * key id) and the list of them, an audit chain, (users) a shred secret, and
 * every ciphertext sealed again under the key version it names, now bound to
 * the salt's incarnation, so due listings, rewrap, status and erasure all see it
 * and a copy of it never opens in another incarnation. Salt bytes, versions and
 * pseudonyms do not change. The integrity sweep does it as it passes.
 */
export abstract class FirestoreUpgrade extends FirestoreRewrap {
  upgradeLegacy(kind: SaltKind, id: string): Promise<boolean> {
    return this.run("upgradeLegacy", async (guard) => {
      const current = await this.deps.keys.current();
      return commitGuarded(guard, () =>
        this.db.runTransaction(async (tx) => {
          const ref = this.saltRef(kind, id);
          const snap = await tx.get(ref);
          if (!snap.exists || !isLegacySalt(kind, snap.data()!)) return false;
          const retired = await tx.get(ref.collection(COLLECTIONS.versions));
          const doc = parseSaltDoc(snap.data());
          const chain = doc.chain ?? { id: chains.salt(kind, id, newIncarnation()), head: null };
          const place = saltPlace(kind, id, chain.id);
          // Opened with the key version it names (found by key id if none), sealed again under it, bound.
          const located = async (enc: EncryptedSalt, aad: Aad) => {
            const version = enc.key_version || (await legacyKeyVersion(this.deps.keys, enc));
            if (!needsBinding(enc, place)) return { ...enc, key_version: version };
            const bytes = await openWith(this.deps.keys, { ...enc, key_version: version }, aad);
            return sealSalt(await this.deps.keys.version(version), bytes, aad);
          };
          const salt = await located(doc.salt, saltAad(place, doc.record.version));
          const shred = doc.shred
            ? await located(doc.shred, shredAad(place))
            : kind === "user"
              ? sealSalt(current, generateSalt(), shredAad(place))
              : null;
          const shard = indexShard(encodeDocId(id));
          const versions = new Set([salt.key_version, ...(shred ? [shred.key_version] : [])]);
          for (const d of retired.docs) {
            const v = versionDocSchema.parse(d.data());
            const enc = await located(v.salt, saltAad(place, v.version));
            versions.add(enc.key_version);
            tx.update(d.ref, { salt: enc, shard });
          }
          tx.update(ref, {
            salt,
            shred,
            shard,
            key_versions: [...versions].sort((a, b) => a - b),
            chain,
          });
          return true;
        }),
      );
    });
  }

  /** Gives audit entries written before the time index was sharded their shard, a page at a time. */
  backfillAuditShards(page: {
    limit: number;
    cursor: string | null;
  }): Promise<{ updated: number; next: string | null }> {
    return this.run("backfillAuditShards", () => backfillShards(this.db, page));
  }
}

async function backfillShards(db: Firestore, page: { limit: number; cursor: string | null }) {
  let q = db.collection(COLLECTIONS.audit).orderBy("__name__").limit(page.limit);
  if (page.cursor) q = q.startAfter(page.cursor);
  const snap = await q.get();
  const batch = db.batch();
  let updated = 0;
  for (const d of snap.docs) {
    if (typeof d.get("shard") === "number") continue;
    batch.update(d.ref, { shard: indexShard(d.id) });
    updated++;
  }
  if (updated > 0) await batch.commit();
  return { updated, next: snap.size === page.limit ? snap.docs.at(-1)!.id : null };
}
