import { REQUEST_TTL_MS } from "../../ports/requestStore";
import { FieldValue, Timestamp } from "firebase-admin/firestore";
import type { AuditDraft } from "../../domain/audit";
import { bindings, chains, saltOfChain } from "../../domain/auditChain";
import { erasedIncarnation, openWith, saltAad } from "../../domain/encryption";
import type { SaltKind } from "../../domain/ids";
import { saltPlace } from "../../domain/rotation";
import { saltEventKey, subjectErased } from "../../domain/events";
import type { LoadedSalt, SaltRecord, SaltVersionInfo } from "../../domain/salt";
import type { AuditContext, EraseOutcome, IdempotencyRecord, SaltStore } from "../../ports/saltStore";
import { appendLinked } from "./firestoreAudit";
import { commitGuarded } from "./errors";
import { FirestoreSaltBatches } from "./firestoreSaltBatches";
import { isErasedCopy } from "./firestoreSaltBase";
import { COLLECTIONS, parseSaltDoc, parseSaltRecord, versionDocSchema } from "./schema";

/**
 * Salts in Firestore. Each salt is one document in `salts_user` / `salts_global`
 * (id encoded by `encodeDocId`), retired versions in its `salt_versions`
 * subcollection with a TTL field. Every change commits with its audit entry,
 * chained in the salt document itself.
 */
export class FirestoreSaltStore extends FirestoreSaltBatches implements SaltStore {
  get(kind: SaltKind, id: string): Promise<LoadedSalt | null> {
    return this.run("get", async () => {
      const read = await this.readSalt(kind, id);
      return read.snap.exists ? this.open(kind, id, read) : null;
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
      // A plain read first: the common case needs no transaction.
      const read = await this.readSalt(kind, id);
      if (read.snap.exists) return { loaded: await this.open(kind, id, read), created: false };
      // The audit key only when an entry is written: the library creates salts without one, and so need not hold it.
      const [key, auditKey] = await Promise.all([this.deps.keys.current(), audit ? this.auditKey() : null]);
      const out = await commitGuarded(guard, () =>
        this.db.runTransaction(async (tx) => {
          const again = await this.readSalt(kind, id, tx);
          if (again.snap.exists) return { loaded: await this.open(kind, id, again), created: false };
          return { loaded: this.stageCreate(tx, kind, id, { key, auditKey }, audit), created: true };
        }),
      );
      if (out.created) this.committed([saltEventKey(kind, id)]);
      return out;
    });
  }

  getVersion(kind: SaltKind, id: string, version: number): Promise<Buffer | null> {
    return this.run("getVersion", async () => {
      const ref = this.saltRef(kind, id);
      const read = await this.readSalt(kind, id);
      if (!read.snap.exists) return null;
      // Retained versions of an erased incarnation brought back are refused with it.
      if (isErasedCopy(read)) throw erasedIncarnation();
      const doc = parseSaltDoc(read.snap.data());
      const place = saltPlace(kind, id, doc.chain?.id);
      if (doc.record.version === version) return openWith(this.deps.keys, doc.salt, saltAad(place, version));
      const old = await ref.collection(COLLECTIONS.versions).doc(String(version)).get();
      if (!old.exists) return null;
      const parsed = versionDocSchema.parse(old.data());
      if (parsed.expire_at <= this.deps.clock()) return null;
      return openWith(this.deps.keys, parsed.salt, saltAad(place, version));
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
   * document (the salt document is gone), the incarnation is recorded as erased
   * (a copy of the document restored later is refused), with the request record if any.
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
          // A first-release user salt never had a shred secret: its global pseudonyms were keyed by the
          // global salt alone, which this erasure cannot reach (docs/CRYPTO.md). The entry says so.
          const unbound = kind === "user" && snap.exists && !snap.get("shred");
          const draft: AuditDraft = {
            ...audit,
            target: { kind, id },
            result: "success",
            rotation_id: rotationId,
            details: {
              ...audit.details,
              versions_destroyed: versionsDestroyed,
              ...(unbound ? { legacy_unbound: true } : {}),
            },
          };
          const chain = snap.exists ? parseSaltDoc(snap.data()).chain : null;
          if (chain) {
            const linked = this.link(tx, draft, now, chain.id, chain.head, auditKey, bindings.erased);
            tx.create(this.chainRef(chain.id), { chain: chain.id, head: linked.head });
          } else {
            await appendLinked(this.db, tx, chains.of(draft.target), draft, now, auditKey);
          }
          if (snap.exists) {
            const incarnation = chain ? saltOfChain(chain.id)?.incarnation : undefined;
            const erased = incarnation
              ? { incarnations: FieldValue.arrayUnion(incarnation) }
              : { chainless: true };
            tx.set(this.erasedRef(kind, id), { kind, ...erased }, { merge: true });
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
