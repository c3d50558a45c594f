import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { REQUEST_TTL_MS, type RequestStore, type StoredRequest } from "../../ports/requestStore";
import { guarded, transactGuarded } from "./errors";
import { COLLECTIONS } from "./schema";

/** `salts_requests/{key}`: first answers by request id, deleted by a TTL policy on `expire_at`. */
export class FirestoreRequestStore implements RequestStore {
  constructor(
    private readonly db: Firestore,
    private readonly clock: () => Date,
    private readonly timeoutMs = 20_000,
  ) {}

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
