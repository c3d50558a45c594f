import type { AuditDraft } from "../../domain/audit";
import { bindings, chains } from "../../domain/auditChain";
import {
  needsBinding,
  openWith,
  saltAad,
  sealSalt,
  shredAad,
  type Aad,
  type EncryptedSalt,
  type EncryptionKey,
  type SaltPlace,
} from "../../domain/encryption";
import { saltPlace } from "../../domain/rotation";
import { MAX_REWRAP_BATCH, type RewrapItem, type RewrapOutcome } from "../../ports/saltStore";
import { commitGuarded } from "./errors";
import { FirestoreRotations } from "./firestoreRotations";
import { newIncarnation } from "./firestoreSaltBase";
import { COLLECTIONS, parseSaltDoc, versionDocSchema } from "./schema";

/**
 * Rewrap: every ciphertext of a salt (current, retained versions, shred secret)
 * decrypted with the key version it names and encrypted again under the current
 * version (and bound to the salt's incarnation, if an earlier release wrote it
 * without), in one transaction per chunk with one chained audit entry per salt.
 * The bytes, versions and metadata do not change, so neither do pseudonyms.
 */
export abstract class FirestoreRewrap extends FirestoreRotations {
  rewrap(items: RewrapItem[]): Promise<RewrapOutcome[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (items.length > MAX_REWRAP_BATCH) throw new Error(`at most ${MAX_REWRAP_BATCH} salts per rewrap`);
    return this.run("rewrap", async (guard) => {
      const [key, auditKey] = await Promise.all([this.deps.keys.current(), this.auditKey()]);
      return commitGuarded(guard, () =>
        this.db.runTransaction(async (tx) => {
          const refs = items.map((i) => this.saltRef(i.kind, i.id));
          const snaps = await tx.getAll(...refs);
          const retired = await Promise.all(
            refs.map((ref, n) => (snaps[n]!.exists ? tx.get(ref.collection(COLLECTIONS.versions)) : null)),
          );
          const now = this.deps.clock();
          const outcomes: RewrapOutcome[] = [];
          for (const [n, item] of items.entries()) {
            const snap = snaps[n]!;
            if (!snap.exists) {
              outcomes.push({ status: "missing" });
              continue;
            }
            const doc = parseSaltDoc(snap.data());
            if (doc.last_rewrap_id === item.rewrapId) {
              // This job rewrapped it on an earlier attempt whose answer was lost.
              outcomes.push({ status: "rewrapped", from: [], to: key.version });
              continue;
            }
            const versions = (retired[n]?.docs ?? []).map((d) => ({
              ref: d.ref,
              v: versionDocSchema.parse(d.data()),
            }));
            const all = [doc.salt, ...(doc.shred ? [doc.shred] : []), ...versions.map((x) => x.v.salt)];
            const chain = doc.chain ?? { id: chains.salt(item.kind, item.id, newIncarnation()), head: null };
            const place = saltPlace(item.kind, item.id, chain.id);
            if (
              all.every((e) => e.key_version === key.version && !needsBinding(e, place)) &&
              doc.key_versions.every((v) => v === key.version)
            ) {
              outcomes.push({ status: "current" });
              continue;
            }
            const again = (enc: EncryptedSalt, aad: Aad) => this.reseal(enc, aad, key, place);
            const salt = await again(doc.salt, saltAad(place, doc.record.version));
            const shred = doc.shred ? await again(doc.shred, shredAad(place)) : null;
            for (const { ref, v } of versions) {
              tx.update(ref, { salt: await again(v.salt, saltAad(place, v.version)) });
            }
            const from = [...new Set(all.map((e) => e.key_version))].sort((a, b) => a - b);
            const draft: AuditDraft = {
              ...item.audit,
              target: { kind: item.kind, id: item.id },
              result: "success",
              details: { from_key_versions: from.join(","), to_key_version: key.version },
            };
            const linked = this.link(
              tx,
              draft,
              now,
              chain.id,
              chain.head,
              auditKey,
              bindings.live(doc.record),
            );
            tx.update(snaps[n]!.ref, {
              salt,
              shred,
              key_versions: [key.version],
              chain: { id: chain.id, head: linked.head },
              last_rewrap_id: item.rewrapId,
            });
            outcomes.push({ status: "rewrapped", from, to: key.version });
          }
          return outcomes;
        }),
      );
    });
  }

  private async reseal(
    enc: EncryptedSalt,
    aad: Aad,
    key: EncryptionKey,
    place: SaltPlace,
  ): Promise<EncryptedSalt> {
    if (enc.key_version === key.version && !needsBinding(enc, place)) return enc;
    return sealSalt(key, await openWith(this.deps.keys, enc, aad), aad);
  }
}
