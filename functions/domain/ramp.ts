/**
 * Firestore's "500/50/5" rule for new traffic: start at no more than 500
 * operations per second, then grow by at most 50% every 5 minutes. Batch jobs
 * follow it from `startOps` up to `maxOps`; the task queue's dispatch settings
 * are derived from the same numbers (see `queueLimits`), and so is the capacity
 * model (`npm run simulate`). One place decides all of them.
 */
export interface Ramp {
  /** Writes per second at the start of a job. */
  startOps: number;
  /** The ceiling the ramp grows to. */
  maxOps: number;
  /** Growth per step (1.5: +50%). */
  growth: number;
  /** Step length in seconds (300: every 5 minutes). */
  stepSeconds: number;
}

export const FIRESTORE_RAMP = { growth: 1.5, stepSeconds: 300 } as const;

/**
 * Writes one rotation commits: the salt, its retired version, its audit entry, its event in the outbox.
 * (Marking the event published is one more write, made by the event drain in batches, off the job's ramp.)
 */
export const WRITES_PER_ROTATION = 4;
/** Writes one rewrap commits on average: the salt, about one retained version, its audit entry. */
export const WRITES_PER_REWRAP = 3;
/** What one task worker sustains (chunks committed in parallel), a conservative figure for sizing. */
export const WORKER_WRITES_PER_SECOND = 1000;
/** Cloud Tasks' own ceiling on a queue's dispatch rate. */
const QUEUE_MAX_DISPATCHES_PER_SECOND = 500;

/** The write rate the ramp allows `t` seconds into a job. */
export function rateAt(ramp: Ramp, t: number): number {
  const step = Math.max(0, Math.floor(t / ramp.stepSeconds));
  return Math.min(ramp.maxOps, ramp.startOps * ramp.growth ** step);
}

/** Seconds into a job at which `ops` writes are allowed in all (the inverse of the cumulative ramp). */
export function timeForOps(ramp: Ramp, ops: number): number {
  let t = 0;
  let left = ops;
  for (;;) {
    const rate = rateAt(ramp, t);
    const stepCapacity = rate * ramp.stepSeconds;
    if (rate >= ramp.maxOps || left <= stepCapacity) return t + left / rate;
    left -= stepCapacity;
    t += ramp.stepSeconds;
  }
}

/**
 * The task queue's limits from the same numbers: never dispatch shards faster
 * than the ceiling can absorb, and run enough at once to reach it.
 */
export function queueLimits(ramp: Ramp, shardSize: number, writesPerItem: number) {
  const writesPerShard = shardSize * writesPerItem;
  return {
    maxDispatchesPerSecond: Math.max(
      1,
      Math.min(QUEUE_MAX_DISPATCHES_PER_SECOND, Math.floor(ramp.maxOps / writesPerShard)),
    ),
    maxConcurrentDispatches: Math.max(1, Math.ceil(ramp.maxOps / WORKER_WRITES_PER_SECOND)),
  };
}

/**
 * One shard in this many renews its job's heartbeat: at the queue's full dispatch rate the job document
 * then takes at most one write every two seconds (a document sustains about one write a second).
 */
export function heartbeatStride(ramp: Ramp, shardSize: number, writesPerItem: number): number {
  return Math.max(1, 2 * queueLimits(ramp, shardSize, writesPerItem).maxDispatchesPerSecond);
}
