import { FieldValue, Timestamp, type DocumentReference, type Firestore } from "firebase-admin/firestore";
import { idHash } from "../../domain/crypto";
import { unavailable } from "../../domain/errors";
import { slide, WINDOW_MS, type RateLimiter } from "../../ports/rateLimiter";
import {
  PENDING_TTL_MS,
  type BudgetDecision,
  type BudgetLimits,
  type RefusalBudget,
} from "../../ports/refusalBudget";
import { commitGuarded, guarded } from "./errors";
import { COLLECTIONS } from "./schema";

const SHARED_KEY = "denied-audit:*";
const BATCH = 500;

/**
 * The denied-audit budget in `salts_rate_limits`: per caller a document (id: the
 * hashed key, so ids do not list callers) with the times of its last minute's
 * entries and its pending suppressed count; the shared budget is the rate
 * limiter's window under one key. The caller's slot is taken first, by a
 * compare-and-swap on the document's update time; only then the shared one. A
 * refusal by the caller's own budget writes only its pending count, and never
 * reads the shared document. Pending counts keep their document alive for
 * PENDING_TTL_MS (Firestore's TTL on `expire_at`).
 */
export class FirestoreRefusalBudget implements RefusalBudget {
  constructor(
    private readonly db: Firestore,
    private readonly shared: RateLimiter,
    private readonly clock: () => Date = () => new Date(),
    private readonly timeoutMs = 10_000,
    private readonly maxAttempts = 50,
  ) {}

  private ref(uid: string): DocumentReference {
    return this.db.collection(COLLECTIONS.rateLimits).doc(idHash(`denied-audit:${uid}`));
  }

  private addPending(ref: DocumentReference, n: number, now: number): Promise<unknown> {
    return ref.set(
      { suppressed: FieldValue.increment(n), expire_at: Timestamp.fromMillis(now + PENDING_TTL_MS) },
      { merge: true },
    );
  }

  take(uid: string, earlier: number, limits: BudgetLimits): Promise<BudgetDecision> {
    return guarded("refusalBudget", this.timeoutMs, async () => {
      const ref = this.ref(uid);
      for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
        const snap = await ref.get();
        const now = this.clock().getTime();
        const stored = snap.exists ? ((snap.get("hits") as number[] | undefined) ?? []) : [];
        const pending = snap.exists ? Number(snap.get("suppressed") ?? 0) : 0;
        const own = slide(stored, now, limits.perCaller);
        if (!own.decision.allowed) {
          await this.addPending(ref, earlier + 1, now);
          return { allowed: false, retryAfterSeconds: own.decision.retryAfterSeconds, scope: "caller" };
        }
        const data = { hits: own.hits, suppressed: 0, expire_at: Timestamp.fromMillis(now + 2 * WINDOW_MS) };
        try {
          if (snap.exists) await ref.update(data, { lastUpdateTime: snap.updateTime! });
          else await ref.create(data);
        } catch (e) {
          const code = (e as { code?: number }).code;
          // 6 ALREADY_EXISTS / 9 FAILED_PRECONDITION: another instance spent or added first; read again.
          if (code !== 6 && code !== 9) throw e;
          await new Promise((r) => setTimeout(r, 2 + Math.random() * 10 * Math.min(attempt + 1, 5)));
          continue;
        }
        const carried = pending + earlier;
        const all = await this.shared.hit(SHARED_KEY, limits.shared);
        if (!all.allowed) {
          await this.addPending(ref, carried + 1, now);
          return { allowed: false, retryAfterSeconds: all.retryAfterSeconds, scope: "shared" };
        }
        return { allowed: true, suppressedBefore: carried };
      }
      throw unavailable("The denied-audit budget is too contended to decide; try again");
    });
  }

  addSuppressed(counts: ReadonlyMap<string, number>): Promise<void> {
    // A lost answer is deadline-exceeded (the counts may be in): the caller then keeps them no longer.
    return guarded("refusalBudget.add", this.timeoutMs, async (guard) => {
      const now = this.clock().getTime();
      const entries = [...counts].filter(([, n]) => n > 0);
      for (let i = 0; i < entries.length; i += BATCH) {
        const batch = this.db.batch();
        for (const [uid, n] of entries.slice(i, i + BATCH)) {
          batch.set(
            this.ref(uid),
            { suppressed: FieldValue.increment(n), expire_at: Timestamp.fromMillis(now + PENDING_TTL_MS) },
            { merge: true },
          );
        }
        await commitGuarded(guard, () => batch.commit());
      }
    });
  }

  pending(uid: string): Promise<number> {
    return guarded("refusalBudget.pending", this.timeoutMs, async () => {
      const snap = await this.ref(uid).get();
      return snap.exists ? Number(snap.get("suppressed") ?? 0) : 0;
    });
  }
}
