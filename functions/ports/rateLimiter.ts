export interface RateDecision {
  allowed: boolean;
  /** Seconds until the caller may try again (0 when allowed). */
  retryAfterSeconds: number;
  remaining: number;
}

/** A fixed one-minute window per key, shared by every instance that shares the store. */
export interface RateLimiter {
  hit(key: string, limitPerMinute: number): Promise<RateDecision>;
}

export function windowOf(now: Date): { start: number; end: number } {
  const start = Math.floor(now.getTime() / 60_000) * 60_000;
  return { start, end: start + 60_000 };
}
