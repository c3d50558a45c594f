import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { REQUEST_TTL_MS, type RequestStore, type StoredRequest } from "../../ports/requestStore";
import { unavailable } from "../../domain/errors";
import { storageCalls } from "../../observability/storageCalls";
import { guarded, transactGuarded } from "./errors";
import { GroupedCreates } from "./groupedCreates";
import { COLLECTIONS } from "./schema";

/** `salts_requests/{key}`: first answers by request id, deleted by a TTL policy on `expire_at`. */
export class FirestoreRequestStore implements RequestStore {
  /** Kept answers (a BigQuery batch's replies) are created in groups: see GroupedCreates. */
  private readonly creates: GroupedCreates;

  constructor(
    private readonly db: Firestore,
    private readonly clock: () => Date,
    private readonly timeoutMs = 20_000,
  ) {
    this.creates = new GroupedCreates(db);
  }

  private ref(key: string) {
    return this.db.collection(COLLECTIONS.requests).doc(key);
  }

  get(key: string): Promise<StoredRequest | null> {
    return guarded("request.get", this.timeoutMs, async () => {
      const snap = await this.ref(key).get();
      // The TTL policy deletes within a day of expiry: an expired record no longer counts.
      if (!snap.exists || (snap.get("expire_at") as Timestamp).toDate() <= this.clock()) return null;
      return {
        fingerprint: snap.get("fingerprint") as string,
        answer: JSON.parse(snap.get("answer") as string),
      };
    });
  }

  claim(key: string, fingerprint: string, answer: unknown): Promise<StoredRequest> {
    return guarded("request.claim", this.timeoutMs, (guard) =>
      transactGuarded(this.db, guard, async (tx) => {
        const snap = await tx.get(this.ref(key));
        if (snap.exists && (snap.get("expire_at") as Timestamp).toDate() > this.clock()) {
          return {
            fingerprint: snap.get("fingerprint") as string,
            answer: JSON.parse(snap.get("answer") as string),
          };
        }
        const now = this.clock();
        tx.set(this.ref(key), {
          fingerprint,
          answer: JSON.stringify(answer),
          created_at: Timestamp.fromDate(now),
          expire_at: Timestamp.fromMillis(now.getTime() + REQUEST_TTL_MS),
        });
        return { fingerprint, answer };
      }),
    );
  }

  keep(key: string, fingerprint: string, answer: unknown): Promise<StoredRequest & { first: boolean }> {
    return guarded("request.keep", this.timeoutMs, async () => {
      const ref = this.ref(key);
      const text = JSON.stringify(answer);
      for (let attempt = 0; attempt < 5; attempt++) {
        const now = this.clock();
        const record = {
          fingerprint,
          answer: text,
          created_at: Timestamp.fromDate(now),
          expire_at: Timestamp.fromMillis(now.getTime() + REQUEST_TTL_MS),
        };
        try {
          storageCalls.commit();
          await this.creates.create(ref, record, text.length);
          return { fingerprint, answer, first: true };
        } catch (e) {
          // 6 ALREADY_EXISTS: a record is there (a retry, or a duplicate that finished first).
          if ((e as { code?: number }).code !== 6) throw e;
        }
        storageCalls.read();
        const snap = await ref.get();
        if (!snap.exists) continue;
        if ((snap.get("expire_at") as Timestamp).toDate() > this.clock()) {
          const stored = {
            fingerprint: snap.get("fingerprint") as string,
            answer: JSON.parse(snap.get("answer") as string) as unknown,
          };
          return { ...stored, first: false };
        }
        // Expired but not yet deleted by the TTL policy: replaced, unless someone else replaced it first.
        try {
          storageCalls.commit();
          await ref.update(record, { lastUpdateTime: snap.updateTime! });
          return { fingerprint, answer, first: true };
        } catch (e) {
          if ((e as { code?: number }).code !== 9) throw e;
        }
      }
      throw unavailable("The request record is changing too often to keep an answer; retry");
    });
  }

  complete(key: string, answer: unknown): Promise<void> {
    return guarded("request.complete", this.timeoutMs, async () => {
      await this.ref(key).update({ answer: JSON.stringify(answer) });
    });
  }

  release(key: string): Promise<void> {
    return guarded("request.release", this.timeoutMs, async () => {
      await this.ref(key).delete();
    });
  }
}
