export interface RateDecision {
  allowed: boolean;
  /** Seconds until the caller may try again (0 when allowed). */
  retryAfterSeconds: number;
  remaining: number;
}

/** A sliding one-minute window per key, shared by every instance that shares the store. */
export interface RateLimiter {
  hit(key: string, limitPerMinute: number): Promise<RateDecision>;
}

export const WINDOW_MS = 60_000;

/**
 * The sliding-window rule: a call is allowed when fewer than `limit` calls were
 * allowed in the last minute, whatever minute boundaries fall in between, so no
 * burst at a boundary doubles the limit. `hits` are the times of allowed calls.
 */
export function slide(
  hits: readonly number[],
  now: number,
  limit: number,
): { decision: RateDecision; hits: number[] } {
  const recent = hits.filter((t) => t > now - WINDOW_MS).sort((a, b) => a - b);
  if (recent.length >= limit) {
    const freeAt = recent[recent.length - limit]! + WINDOW_MS;
    const retryAfterSeconds = Math.max(1, Math.ceil((freeAt - now) / 1000));
    return { decision: { allowed: false, retryAfterSeconds, remaining: 0 }, hits: recent };
  }
  const next = [...recent, now];
  return { decision: { allowed: true, retryAfterSeconds: 0, remaining: limit - next.length }, hits: next };
}
