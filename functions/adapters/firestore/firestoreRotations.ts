import { REQUEST_TTL_MS } from "../../ports/requestStore";
import { Timestamp, type DocumentReference, type WriteBatch } from "firebase-admin/firestore";
import type { AuditDraft } from "../../domain/audit";
import { bindings, chains, type AuditKey } from "../../domain/auditChain";
import { saltAad, sealSalt, shredAad, type EncryptionKey } from "../../domain/encryption";
import { encodeDocId, indexShard, type SaltKind } from "../../domain/ids";
import { decideRotation, saltPlace } from "../../domain/rotation";
import { saltChanged, saltEventKey } from "../../domain/events";
import type { BatchRotateItem, ListedSalt, RotateOutcome, RotateRequest } from "../../ports/saltStore";
import { MAX_BATCH_ROTATIONS } from "../../ports/saltStore";
import { newIncarnation } from "./firestoreSaltBase";
import { FirestoreSaltListing, type FirestoreHandle } from "./firestoreSaltListing";
import { commitOptimistically } from "./optimistic";
import { COLLECTIONS, parseSaltDoc, saltDocData, versionDocData } from "./schema";

/** A salt document as read for a rotation (absent: `data` undefined), with its request record. */
interface Snapshot {
  data: unknown;
  updateTime: Timestamp | undefined;
  request: { fingerprint: string; answer: string } | null;
  /** An expired request record (past its 24 h, not yet deleted by TTL): overwritten, under a precondition. */
  staleRequest?: Timestamp | undefined;
}

/** The event keys of what a commit created or rotated. */
const eventKeys = (items: BatchRotateItem[], outcomes: RotateOutcome[]) =>
  items
    .filter((_, n) => ["created", "rotated"].includes(outcomes[n]!.status))
    .map((i) => saltEventKey(i.kind, i.id));

/**
 * Rotations as optimistic commits (optimistic.ts): read the salts, decide, and
 * commit one batch whose salt writes carry a precondition on the version read
 * (or are creates); a conflict is decided again on a fresh read. Hot salts do
 * not queue behind lock timeouts, and every acknowledged rotation is one new version.
 */
export abstract class FirestoreRotations extends FirestoreSaltListing {
  protected requestRef(key: string): DocumentReference {
    return this.db.collection(COLLECTIONS.requests).doc(key);
  }

  private async read(items: BatchRotateItem[]): Promise<Snapshot[]> {
    const refs = items.map((i) => this.saltRef(i.kind, i.id));
    const withRequest = items.filter((i) => i.request.idempotency);
    const snaps = await this.db.getAll(
      ...refs,
      ...withRequest.map((i) => this.requestRef(i.request.idempotency!.key)),
    );
    const now = this.deps.clock();
    const requests = new Map(
      withRequest.map((i, n) => {
        const s = snaps[refs.length + n]!;
        const live = s.exists && (s.get("expire_at") as Timestamp).toDate() > now;
        const record = live
          ? { fingerprint: s.get("fingerprint") as string, answer: s.get("answer") as string }
          : null;
        return [i, { record, stale: s.exists && !live ? s.updateTime : undefined }] as const;
      }),
    );
    return items.map((item, n) => ({
      data: snaps[n]!.data(),
      updateTime: snaps[n]!.exists ? snaps[n]!.updateTime : undefined,
      request: requests.get(item)?.record ?? null,
      staleRequest: requests.get(item)?.stale,
    }));
  }

  rotate(kind: SaltKind, id: string, request: RotateRequest): Promise<RotateOutcome> {
    return this.commitRotations([{ kind, id, request }], null).then((o) => o[0]!);
  }

  rotateMany(items: BatchRotateItem[]): Promise<RotateOutcome[]> {
    return this.commitRotations(items, null);
  }

  rotateListed(items: { listed: ListedSalt; request: RotateRequest }[]): Promise<RotateOutcome[]> {
    const batchItems = items.map(({ listed, request }) => ({
      kind: listed.record.kind,
      id: listed.record.id,
      request,
    }));
    const snapshots = items.map(({ listed }) => {
      const handle = listed.handle as FirestoreHandle;
      return { data: handle.data, updateTime: handle.updateTime, request: null };
    });
    return this.commitRotations(batchItems, snapshots);
  }

  private commitRotations(items: BatchRotateItem[], listed: Snapshot[] | null): Promise<RotateOutcome[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (items.length > MAX_BATCH_ROTATIONS)
      throw new Error(`at most ${MAX_BATCH_ROTATIONS} rotations per commit`);
    return this.run("rotate", async (guard) => {
      const outcomes = await commitOptimistically(this.db, guard, {
        read: listed ?? (await this.read(items)),
        reread: () => this.read(items),
        stage: async (batch, snaps) => {
          const [key, auditKey] = await Promise.all([this.deps.keys.current(), this.auditKey()]);
          const now = this.deps.clock();
          const outcome = items.map((item, n) => this.stage(batch, item, snaps[n]!, now, key, auditKey));
          return { outcome, writes: outcome.some((o) => o.status !== "skipped" && o.status !== "replayed") };
        },
        busy: "The salt is changing too often to rotate now; retry",
      });
      this.committed(eventKeys(items, outcomes));
      return outcomes;
    });
  }

  /** Decides one rotation from the snapshot and stages its writes (salt, retired version, entry, request). */
  private stage(
    batch: WriteBatch,
    item: BatchRotateItem,
    snap: Snapshot,
    now: Date,
    key: EncryptionKey,
    auditKey: AuditKey,
  ): RotateOutcome {
    const { kind, id, request } = item;
    const idem = request.idempotency;
    if (idem && snap.request) {
      return {
        status: "replayed",
        answer: JSON.parse(snap.request.answer),
        sameRequest: snap.request.fingerprint === idem.fingerprint,
      };
    }
    const doc = snap.data === undefined ? null : parseSaltDoc(snap.data);
    const context = { now, policy: this.deps.policy(), retentionDays: this.deps.retentionDays() };
    const decision = decideRotation(kind, id, doc?.record ?? null, request, context);
    if (decision.type === "skip")
      return { status: "skipped", reason: decision.reason, record: doc?.record ?? null };

    const ref = this.saltRef(kind, id);
    const { record, salt } = decision.plan;
    const shard = indexShard(encodeDocId(id));
    let shred = doc?.shred ?? null;
    const fresh = { id: chains.salt(kind, id, newIncarnation()), head: null };
    const chain = decision.type === "create" ? fresh : (doc?.chain ?? fresh);
    // Bound to the salt's incarnation: a ciphertext of an erased one never opens in this one.
    const place = saltPlace(kind, id, chain.id);
    const enc = sealSalt(key, salt, saltAad(place, record.version));
    let keyVersions = new Set([key.version]);
    if (decision.type === "create") {
      const plannedShred = decision.plan.shred;
      shred = plannedShred ? sealSalt(key, plannedShred, shredAad(place)) : null;
    } else {
      const { retired, retiredExpiresAt } = decision.plan;
      // The retired ciphertext moves unchanged: its associated data names the salt and version, not the document.
      const versionRef = ref.collection(COLLECTIONS.versions).doc(String(retired.version));
      batch.create(versionRef, { ...versionDocData(retired, doc!.salt, retiredExpiresAt), shard });
      keyVersions = new Set([...doc!.key_versions, doc!.salt.key_version, key.version].filter((v) => v > 0));
      if (shred) keyVersions.add(shred.key_version);
    }
    const draft: AuditDraft = {
      ...request.audit,
      target: { kind, id },
      result: "success",
      rotation_id: request.rotationId,
    };
    const linked = this.link(batch, draft, now, chain.id, chain.head, auditKey, bindings.live(record));
    const data = saltDocData(
      record,
      {
        salt: enc,
        shred,
        keyVersions: [...keyVersions].sort((a, b) => a - b),
        chain: { id: chain.id, head: linked.head },
        shard,
      },
      now,
    );
    if (decision.type === "create") batch.create(ref, data);
    else batch.update(ref, data, { lastUpdateTime: snap.updateTime! });
    this.outbox(batch, saltChanged(record, now, request.audit.correlation_id), now);
    const outcome: RotateOutcome = {
      status: decision.type === "create" ? "created" : "rotated",
      record,
      rotationId: request.rotationId,
    };
    if (idem) {
      const record = {
        fingerprint: idem.fingerprint,
        answer: JSON.stringify(idem.answer(outcome)),
        created_at: Timestamp.fromDate(now),
        expire_at: Timestamp.fromMillis(now.getTime() + REQUEST_TTL_MS),
      };
      if (snap.staleRequest)
        batch.update(this.requestRef(idem.key), record, { lastUpdateTime: snap.staleRequest });
      else batch.create(this.requestRef(idem.key), record);
    }
    return outcome;
  }
}
