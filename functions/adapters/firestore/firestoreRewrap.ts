import type { DocumentReference, Timestamp, WriteBatch } from "firebase-admin/firestore";
import type { AuditDraft } from "../../domain/audit";
import { bindings, chains, type AuditKey } from "../../domain/auditChain";
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
import { FirestoreRotations } from "./firestoreRotations";
import { newIncarnation } from "./firestoreSaltBase";
import type { FirestoreHandle } from "./firestoreSaltListing";
import { commitOptimistically, type Staged } from "./optimistic";
import { COLLECTIONS, parseSaltDoc, versionDocSchema } from "./schema";

/** One salt as read for a rewrap: its document (absent: null) and its retained versions, each with its exact version. */
interface RewrapRead {
  salt: FirestoreHandle | null;
  versions: { ref: DocumentReference; data: unknown; updateTime: Timestamp }[];
}

/**
 * Rewrap: every ciphertext of a salt (current, retained versions, shred secret)
 * decrypted with the key version it names and encrypted again under the current
 * version (and bound to the salt's incarnation, if an earlier release wrote it
 * without), with one chained audit entry per salt. The bytes, versions and
 * metadata do not change, so neither do pseudonyms. A chunk is one optimistic
 * commit (optimistic.ts): read outside any transaction, every write under a
 * precondition on the document version read, decided again on a conflict; so
 * chunks run in parallel without lock contention, a salt changed meanwhile (a
 * rotation, an erasure, a racing rewrap) is never overwritten, and a salt's
 * `last_rewrap_id` and audit entry are written once whichever attempt commits.
 */
export abstract class FirestoreRewrap extends FirestoreRotations {
  rewrap(items: RewrapItem[]): Promise<RewrapOutcome[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (items.length > MAX_REWRAP_BATCH) throw new Error(`at most ${MAX_REWRAP_BATCH} salts per rewrap`);
    return this.run("rewrap", async (guard) =>
      commitOptimistically(this.db, guard, {
        read: await this.readForRewrap(items),
        reread: () => this.readForRewrap(items),
        stage: (batch, reads) => this.stageRewraps(batch, items, reads),
        busy: "The salts are changing too often to rewrap now; retry",
      }),
    );
  }

  private async readForRewrap(items: RewrapItem[]): Promise<RewrapRead[]> {
    const snaps = await this.db.getAll(...items.map((i) => this.saltRef(i.kind, i.id)));
    return Promise.all(
      snaps.map(async (snap): Promise<RewrapRead> => {
        if (!snap.exists) return { salt: null, versions: [] };
        const retained = await snap.ref.collection(COLLECTIONS.versions).get();
        return {
          salt: { data: snap.data(), updateTime: snap.updateTime! },
          versions: retained.docs.map((d) => ({ ref: d.ref, data: d.data(), updateTime: d.updateTime })),
        };
      }),
    );
  }

  private async stageRewraps(
    batch: WriteBatch,
    items: RewrapItem[],
    reads: RewrapRead[],
  ): Promise<Staged<RewrapOutcome[]>> {
    const [key, auditKey] = await Promise.all([this.deps.keys.current(), this.auditKey()]);
    const now = this.deps.clock();
    const staged = await Promise.all(
      items.map((item, n) => this.stageRewrap(batch, item, reads[n]!, now, key, auditKey)),
    );
    return { outcome: staged.map((s) => s.outcome), writes: staged.some((s) => s.writes) };
  }

  /** Decides one salt from what was read and stages its writes (ciphertexts, audit entry, last_rewrap_id). */
  private async stageRewrap(
    batch: WriteBatch,
    item: RewrapItem,
    read: RewrapRead,
    now: Date,
    key: EncryptionKey,
    auditKey: AuditKey,
  ): Promise<Staged<RewrapOutcome>> {
    const none = (outcome: RewrapOutcome) => ({ outcome, writes: false });
    if (!read.salt) return none({ status: "missing" });
    const doc = parseSaltDoc(read.salt.data);
    // This rewrap committed on an earlier attempt (a retried chunk, or an answer lost): nothing more to write.
    if (doc.last_rewrap_id === item.rewrapId) return none({ status: "rewrapped", from: [], to: key.version });
    const versions = read.versions.map((d) => ({ ...d, v: versionDocSchema.parse(d.data) }));
    const all = [doc.salt, ...(doc.shred ? [doc.shred] : []), ...versions.map((x) => x.v.salt)];
    const chain = doc.chain ?? { id: chains.salt(item.kind, item.id, newIncarnation()), head: null };
    const place = saltPlace(item.kind, item.id, chain.id);
    if (
      all.every((e) => e.key_version === key.version && !needsBinding(e, place)) &&
      doc.key_versions.every((v) => v === key.version)
    )
      return none({ status: "current" });

    const again = (enc: EncryptedSalt, aad: Aad) => this.reseal(enc, aad, key, place);
    const [salt, shred, resealed] = await Promise.all([
      again(doc.salt, saltAad(place, doc.record.version)),
      doc.shred ? again(doc.shred, shredAad(place)) : null,
      Promise.all(versions.map(({ v }) => again(v.salt, saltAad(place, v.version)))),
    ]);
    for (const [n, { ref, updateTime }] of versions.entries()) {
      batch.update(ref, { salt: resealed[n] }, { lastUpdateTime: updateTime });
    }
    const from = [...new Set(all.map((e) => e.key_version))].sort((a, b) => a - b);
    const draft: AuditDraft = {
      ...item.audit,
      target: { kind: item.kind, id: item.id },
      result: "success",
      details: { from_key_versions: from.join(","), to_key_version: key.version },
    };
    const linked = this.link(batch, draft, now, chain.id, chain.head, auditKey, bindings.live(doc.record));
    batch.update(
      this.saltRef(item.kind, item.id),
      {
        salt,
        shred,
        key_versions: [key.version],
        chain: { id: chain.id, head: linked.head },
        last_rewrap_id: item.rewrapId,
      },
      { lastUpdateTime: read.salt.updateTime },
    );
    return { outcome: { status: "rewrapped", from, to: key.version }, writes: true };
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
