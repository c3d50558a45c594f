import { FieldValue, Timestamp, type DocumentSnapshot, type Firestore } from "firebase-admin/firestore";
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
 * refusal is decided on a read and writes nothing. Documents carry `expire_at` for
 * Firestore's TTL policy.
 *
 * This instance remembers what it last wrote for a key (its hits and the write's
 * time, which is the document's update time): a caller's next call here sends the
 * update conditioned on that time and, beside it, a read of the document. If the
 * write lands, the call took one round trip and the read's answer is ignored (it is
 * still a billed read). If any other instance changed the document since (or the
 * TTL policy deleted it), the condition fails and the call decides on the read,
 * already back, as the first did: two
 * round trips, as without the memory, however the caller's calls spread over
 * instances. The window is exactly as strict either way.
 *
 * A failed conditioned write still cost Firestore a write and this instance an
 * RPC. So a key whose remembered write was overtaken (its caller's calls go to
 * several instances) is read first on its next call here, as without the memory,
 * until a read finds the document as this instance last wrote it: then the memory
 * is used again. A caller that stays on one instance gets one round trip; a
 * caller spread over many costs what it did before the memory, plus one failed
 * write each time it moves.
 */
export class FirestoreRateLimiter implements RateLimiter {
  /** Per key: what this instance last wrote, and whether its next call should send the write at once. */
  private readonly written = new Map<string, { hits: number[]; at: Timestamp; trusted: boolean }>();

  constructor(
    private readonly db: Firestore,
    private readonly clock: () => Date = () => new Date(),
    private readonly timeoutMs = 10_000,
    private readonly maxAttempts = 50,
    private readonly maxRemembered = 10_000,
  ) {}

  hit(key: string, limit: number): Promise<RateDecision> {
    return guarded("rateLimit", this.timeoutMs, async () => {
      // The key holds a uid: hash it so document ids do not list callers.
      const id = idHash(key);
      const ref = this.db.collection(COLLECTIONS.rateLimits).doc(id);
      const last = this.written.get(id);
      this.written.delete(id);
      let known = last?.trusted ? last : undefined;
      // Whether this key's next call here sends its write at once (no memory yet: try it).
      let trust = true;
      // Sent beside the remembered write: what the call decides on if that write's condition fails.
      let read: Promise<DocumentSnapshot> | null = known ? ref.get() : null;
      read?.catch(() => undefined);
      for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
        const fromMemory = known !== undefined;
        let stored: number[];
        let updateTime: Timestamp | null;
        if (known) {
          ({ hits: stored, at: updateTime } = known);
          known = undefined;
        } else {
          const snap = await (read ?? ref.get());
          read = null;
          stored = snap.exists ? ((snap.get("hits") as number[] | undefined) ?? []) : [];
          updateTime = snap.exists ? snap.updateTime! : null;
          // An overtaken memory is trusted again once the document is as this instance last wrote it.
          if (last && !last.trusted && attempt === 0) trust = updateTime?.isEqual(last.at) ?? false;
        }
        const now = this.clock().getTime();
        const { decision, hits } = slide(stored, now, limit);
        // A refusal is decided on the stored window (its retry time counts every instance's calls).
        if (!decision.allowed && fromMemory) continue;
        if (!decision.allowed) return decision;
        const data = { hits, expire_at: Timestamp.fromMillis(now + 2 * WINDOW_MS) };
        try {
          const result = updateTime
            ? await ref.update(data, { lastUpdateTime: updateTime })
            : await ref.create(data);
          this.remember(id, hits, result.writeTime, trust);
          return decision;
        } catch (e) {
          const code = (e as { code?: number }).code;
          // 6 ALREADY_EXISTS / 9 FAILED_PRECONDITION: another instance counted first, or the document this
          // instance wrote is gone (the TTL policy; 5 NOT_FOUND, should Firestore answer that). Decide again on
          // a read: the one sent beside a remembered write, or a new one after a short random wait when
          // instances collide.
          if (code !== 6 && code !== 9 && code !== 5) throw e;
          if (fromMemory) trust = false;
          else await new Promise((r) => setTimeout(r, 2 + Math.random() * 10 * Math.min(attempt + 1, 5)));
        }
      }
      throw unavailable("The rate limiter is too contended to decide; try again");
    });
  }

  /** Most recently written last (a Map keeps insertion order); the oldest go beyond the bound. */
  private remember(id: string, hits: number[], at: Timestamp, trusted: boolean): void {
    this.written.set(id, { hits, at, trusted });
    while (this.written.size > this.maxRemembered) this.written.delete(this.written.keys().next().value!);
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
