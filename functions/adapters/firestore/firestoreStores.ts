import { FieldValue, Timestamp, type Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import { idHash } from "../../domain/crypto";
import { unavailable } from "../../domain/errors";
import {
  emptyAggregate,
  merge,
  seriesKey,
  LATENCY_BUCKETS,
  type MetricsStore,
  type OperationAggregate,
} from "../../ports/metricsStore";
import { slide, WINDOW_MS, type RateDecision, type RateLimiter } from "../../ports/rateLimiter";
import { COLLECTIONS } from "./schema";
import { guarded } from "./errors";

/**
 * A sliding window per caller and function, shared by every instance: the
 * document keeps the times of the calls allowed in the last minute. Updates are
 * a compare-and-swap on the document's update time rather than a transaction,
 * so contended callers retry in milliseconds instead of waiting on locks. A
 * refused call only reads. Documents carry `expire_at` for Firestore's TTL policy.
 */
export class FirestoreRateLimiter implements RateLimiter {
  constructor(
    private readonly db: Firestore,
    private readonly clock: () => Date = () => new Date(),
    private readonly timeoutMs = 10_000,
    private readonly maxAttempts = 50,
  ) {}

  hit(key: string, limit: number): Promise<RateDecision> {
    return guarded("rateLimit", this.timeoutMs, async () => {
      // The key holds a uid: hash it so document ids do not list callers.
      const ref = this.db.collection(COLLECTIONS.rateLimits).doc(idHash(key));
      for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
        const snap = await ref.get();
        const now = this.clock().getTime();
        const stored = snap.exists ? ((snap.get("hits") as number[] | undefined) ?? []) : [];
        const { decision, hits } = slide(stored, now, limit);
        if (!decision.allowed) return decision;
        const data = { hits, expire_at: Timestamp.fromMillis(now + 2 * WINDOW_MS) };
        try {
          if (snap.exists) await ref.update(data, { lastUpdateTime: snap.updateTime! });
          else await ref.create(data);
          return decision;
        } catch (e) {
          const code = (e as { code?: number }).code;
          // 6 ALREADY_EXISTS / 9 FAILED_PRECONDITION: another instance counted first; read again.
          if (code !== 6 && code !== 9) throw e;
          await new Promise((r) => setTimeout(r, 2 + Math.random() * 10 * Math.min(attempt + 1, 5)));
        }
      }
      throw unavailable("The rate limiter is too contended to decide; try again");
    });
  }
}

const SHARDS = 8;
const metricDoc = z.object({
  operation: z.string(),
  result: z.enum(["success", "error", "denied"]),
  count: z.number(),
  sum_seconds: z.number(),
  buckets: z.record(z.string(), z.number()).default({}),
});

/**
 * Counters summed with `FieldValue.increment` into a few shards per series, so
 * writes from many instances neither contend nor lose counts.
 */
export class FirestoreMetricsStore implements MetricsStore {
  constructor(
    private readonly db: Firestore,
    private readonly timeoutMs = 10_000,
  ) {}

  add(deltas: OperationAggregate[]): Promise<void> {
    return guarded("metrics", this.timeoutMs, async () => {
      const batch = this.db.batch();
      for (const d of deltas) {
        const shard = Math.floor(Math.random() * SHARDS);
        const ref = this.db.collection("salts_metrics").doc(`${d.operation}__${d.result}__${shard}`);
        const data: Record<string, unknown> = {
          operation: d.operation,
          result: d.result,
          count: FieldValue.increment(d.count),
          sum_seconds: FieldValue.increment(d.sumSeconds),
        };
        const buckets: Record<string, FieldValue> = {};
        LATENCY_BUCKETS.forEach((_, i) => {
          buckets[`b${i}`] = FieldValue.increment(d.buckets[i] ?? 0);
        });
        data.buckets = buckets;
        batch.set(ref, data, { merge: true });
      }
      if (deltas.length > 0) await batch.commit();
    });
  }

  read(): Promise<OperationAggregate[]> {
    return guarded("metrics", this.timeoutMs, async () => {
      const snap = await this.db.collection("salts_metrics").get();
      const totals = new Map<string, OperationAggregate>();
      for (const doc of snap.docs) {
        const m = metricDoc.parse(doc.data());
        const key = seriesKey(m);
        const agg = totals.get(key) ?? emptyAggregate(m.operation, m.result);
        merge(agg, {
          operation: m.operation,
          result: m.result,
          count: m.count,
          sumSeconds: m.sum_seconds,
          buckets: LATENCY_BUCKETS.map((_, i) => m.buckets[`b${i}`] ?? 0),
        });
        totals.set(key, agg);
      }
      return [...totals.values()];
    });
  }
}
