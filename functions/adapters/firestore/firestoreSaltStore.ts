import { REQUEST_TTL_MS } from "../../ports/requestStore";
import { Timestamp } from "firebase-admin/firestore";
import type { AuditDraft } from "../../domain/audit";
import { chains } from "../../domain/auditChain";
import { openWith, saltAad, sealSalt, shredAad } from "../../domain/encryption";
import { encodeDocId, indexShard, type SaltKind } from "../../domain/ids";
import { planCreate, saltLocation } from "../../domain/rotation";
import { LIBRARY_CORRELATION_ID, saltChanged, saltEventKey, subjectErased } from "../../domain/events";
import type { LoadedSalt, SaltRecord, SaltVersionInfo } from "../../domain/salt";
import type { AuditContext, EraseOutcome, IdempotencyRecord, SaltStore } from "../../ports/saltStore";
import { appendLinked } from "./firestoreAudit";
import { commitGuarded } from "./errors";
import { FirestoreUpgrade } from "./firestoreUpgrade";
import { newIncarnation } from "./firestoreSaltBase";
import { COLLECTIONS, parseSaltDoc, parseSaltRecord, saltDocData, versionDocSchema } from "./schema";

/**
 * Salts in Firestore. Each salt is one document in `salts_user` / `salts_global`
 * (id encoded by `encodeDocId`), retired versions in its `salt_versions`
 * subcollection with a TTL field. Every change commits with its audit entry,
 * chained in the salt document itself.
 */
export class FirestoreSaltStore extends FirestoreUpgrade implements SaltStore {
  get(kind: SaltKind, id: string): Promise<LoadedSalt | null> {
    return this.run("get", async () => {
      const snap = await this.saltRef(kind, id).get();
      return snap.exists ? this.open(kind, id, snap.data()) : null;
    });
  }

  record(kind: SaltKind, id: string): Promise<SaltRecord | null> {
    return this.run("record", async () => {
      const snap = await this.saltRef(kind, id).get();
      return snap.exists ? parseSaltRecord(snap.data()) : null;
    });
  }

  getOrCreate(
    kind: SaltKind,
    id: string,
    audit?: AuditContext,
  ): Promise<{ loaded: LoadedSalt; created: boolean }> {
    return this.run("getOrCreate", async (guard) => {
      const ref = this.saltRef(kind, id);
      // A plain read first: the common case needs no transaction.
      const snap = await ref.get();
      if (snap.exists) return { loaded: await this.open(kind, id, snap.data()), created: false };
      // The audit key only when an entry is written: the library creates salts without one, and so need not hold it.
      const [key, auditKey] = await Promise.all([this.deps.keys.current(), audit ? this.auditKey() : null]);
      const out = await commitGuarded(guard, () =>
        this.db.runTransaction(async (tx) => {
          const again = await tx.get(ref);
          if (again.exists) return { loaded: await this.open(kind, id, again.data()), created: false };
          const now = this.deps.clock();
          const plan = planCreate(kind, id, now, this.deps.policy());
          const location = saltLocation(kind, id);
          const chain = {
            id: chains.salt(kind, id, newIncarnation()),
            head: null as null | { seq: number; mac: string },
          };
          if (audit && auditKey) {
            const draft: AuditDraft = { ...audit, target: { kind, id }, result: "success" };
            chain.head = this.link(tx, draft, now, chain.id, null, auditKey).head;
          }
          const parts = {
            salt: sealSalt(key, plan.salt, saltAad(location, 1)),
            shred: plan.shred ? sealSalt(key, plan.shred, shredAad(location)) : null,
            keyVersions: [key.version],
            chain,
            shard: indexShard(encodeDocId(id)),
          };
          tx.create(ref, saltDocData(plan.record, parts, now));
          this.outbox(
            tx,
            saltChanged(plan.record, now, audit?.correlation_id ?? LIBRARY_CORRELATION_ID),
            now,
          );
          return { loaded: { record: plan.record, salt: plan.salt, shred: plan.shred }, created: true };
        }),
      );
      if (out.created) this.committed([saltEventKey(kind, id)]);
      return out;
    });
  }

  getVersion(kind: SaltKind, id: string, version: number): Promise<Buffer | null> {
    return this.run("getVersion", async () => {
      const ref = this.saltRef(kind, id);
      const snap = await ref.get();
      if (!snap.exists) return null;
      const doc = parseSaltDoc(snap.data());
      const location = saltLocation(kind, id);
      if (doc.record.version === version)
        return openWith(this.deps.keys, doc.salt, saltAad(location, version));
      const old = await ref.collection(COLLECTIONS.versions).doc(String(version)).get();
      if (!old.exists) return null;
      const parsed = versionDocSchema.parse(old.data());
      if (parsed.expire_at <= this.deps.clock()) return null;
      return openWith(this.deps.keys, parsed.salt, saltAad(location, version));
    });
  }

  history(kind: SaltKind, id: string): Promise<SaltVersionInfo[]> {
    return this.run("history", async () => {
      const now = this.deps.clock();
      // A salt has few retired versions: read them all (no index on the expiry time is needed).
      const snap = await this.saltRef(kind, id).collection(COLLECTIONS.versions).get();
      return snap.docs
        .map((d) => versionDocSchema.parse(d.data()))
        .filter((v) => v.expire_at > now)
        .map((v) => ({
          version: v.version,
          created_at: v.created_at,
          retired_at: v.retired_at,
          salt_hash_prefix: v.salt_hash_prefix,
        }))
        .sort((a, b) => b.version - a.version);
    });
  }

  /**
   * One transaction: every version and the shred secret are deleted, the erase
   * is chained as the last entry of the salt's chain, whose head moves to a chain
   * document (the salt document is gone), with the request record if any.
   */
  erase(
    kind: SaltKind,
    id: string,
    rotationId: string,
    audit: AuditContext,
    idempotency?: IdempotencyRecord<EraseOutcome>,
  ): Promise<EraseOutcome> {
    return this.run("erase", async (guard) => {
      const ref = this.saltRef(kind, id);
      const auditKey = await this.auditKey();
      const out = await commitGuarded(guard, () =>
        this.db.runTransaction(async (tx) => {
          const requestRef = idempotency ? this.requestRef(idempotency.key) : null;
          const [snap, retired, request] = await Promise.all([
            tx.get(ref),
            tx.get(ref.collection(COLLECTIONS.versions)),
            requestRef ? tx.get(requestRef) : null,
          ]);
          const live =
            request?.exists && (request.get("expire_at") as Timestamp).toDate() > this.deps.clock();
          if (live) {
            const sameRequest = request.get("fingerprint") === idempotency!.fingerprint;
            return {
              status: "replayed" as const,
              answer: JSON.parse(request.get("answer") as string),
              sameRequest,
            };
          }
          const now = this.deps.clock();
          const versionsDestroyed = (snap.exists ? 1 : 0) + retired.size;
          const draft: AuditDraft = {
            ...audit,
            target: { kind, id },
            result: "success",
            rotation_id: rotationId,
            details: { versions_destroyed: versionsDestroyed },
          };
          const chain = snap.exists ? parseSaltDoc(snap.data()).chain : null;
          if (chain) {
            const linked = this.link(tx, draft, now, chain.id, chain.head, auditKey);
            tx.create(this.chainRef(chain.id), { chain: chain.id, head: linked.head });
          } else {
            await appendLinked(this.db, tx, chains.of(draft.target), draft, now, auditKey);
          }
          for (const doc of retired.docs) tx.delete(doc.ref);
          if (snap.exists) tx.delete(ref);
          const last = snap.exists ? parseSaltDoc(snap.data()).record : null;
          const erased = { versionsDestroyed, rotationId, at: now, correlationId: audit.correlation_id };
          this.outbox(tx, subjectErased(kind, id, last, erased), now);
          const outcome: EraseOutcome = {
            status: "erased",
            erased: versionsDestroyed > 0,
            versionsDestroyed,
          };
          if (requestRef) {
            // An expired record (past 24 h, not yet deleted by TTL) is replaced; the transaction read it.
            tx.set(requestRef, {
              fingerprint: idempotency!.fingerprint,
              answer: JSON.stringify(idempotency!.answer(outcome)),
              created_at: Timestamp.fromDate(now),
              expire_at: Timestamp.fromMillis(now.getTime() + REQUEST_TTL_MS),
            });
          }
          return outcome;
        }),
      );
      if (out.status === "erased") this.committed([saltEventKey(kind, id)]);
      return out;
    });
  }
}
