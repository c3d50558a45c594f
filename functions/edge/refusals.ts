import { SaltServiceError } from "../domain/errors";
import { WINDOW_MS } from "../ports/rateLimiter";
import type { Services } from "../usecases/deps";
import { flushSuppressed } from "./denied";

/**
 * Refusals under a flood, at the front of the pipeline: what a call costs before
 * it is known to be allowed. Per instance, per caller and function, a token
 * bucket of ADMIN_RATE_LIMIT_PER_MINUTE (refilled at that rate) and the shared
 * limiter's last refusal, kept until its retry time, answer `resource-exhausted`
 * with no I/O at all; only a call they let through asks the shared limiter (a
 * refusal there only reads), and only a call the shared limiter admitted costs
 * an Auth lookup (edge/callable.ts looks the caller up after this). So a caller
 * costs at most ADMIN_RATE_LIMIT_PER_MINUTE Auth lookups and limiter writes per
 * function per minute across every instance, and nothing more however fast it
 * calls. Unauthenticated calls are refused before this, with no I/O.
 */
class CallGate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly blocked = new Map<string, number>();

  constructor(private readonly maxKeys = 20_000) {}

  /** Seconds to wait when this instance refuses on its own; null when the shared limiter must decide. */
  refuseLocally(key: string, limit: number, now: number): number | null {
    const until = this.blocked.get(key);
    if (until !== undefined) {
      if (until > now) return Math.max(1, Math.ceil((until - now) / 1000));
      this.blocked.delete(key);
    }
    const perMs = limit / WINDOW_MS;
    const last = this.buckets.get(key);
    // A clock that went back (tests, a corrected host clock) refills nothing rather than draining the bucket.
    const tokens = last ? Math.min(limit, last.tokens + Math.max(0, now - last.at) * perMs) : limit;
    this.remember(this.buckets, key, { tokens: tokens >= 1 ? tokens - 1 : tokens, at: now });
    return tokens >= 1 ? null : Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
  }

  block(key: string, until: number): void {
    this.remember(this.blocked, key, until);
  }

  /** Most recently used last (a Map keeps insertion order); the oldest go first beyond the bound. */
  private remember<T>(map: Map<string, T>, key: string, value: T): void {
    map.delete(key);
    map.set(key, value);
    while (map.size > this.maxKeys) map.delete(map.keys().next().value!);
  }
}

// One gate per composed set of services (in production: one per instance), so separate runtimes in one
// process (tests, the CLI) never share a caller's bucket.
const gates = new WeakMap<object, CallGate>();
const gateOf = (owner: object): CallGate => {
  let gate = gates.get(owner);
  if (!gate) gates.set(owner, (gate = new CallGate()));
  return gate;
};

const rateLimited = (limit: number, retryAfterSeconds: number) =>
  new SaltServiceError("resource-exhausted", `Rate limit of ${limit} calls per minute reached`, {
    retry_after_seconds: retryAfterSeconds,
  });

/** Admits a signed-in caller's call to `operation`, or refuses it as rate limited (see CallGate). */
export async function admitCall(
  rt: Pick<Services, "rateLimiter" | "config" | "clock">,
  operation: string,
  uid: string,
): Promise<void> {
  const key = `${operation}:${uid}`;
  const gate = gateOf(rt.rateLimiter);
  const limit = rt.config.rateLimitPerMinute;
  const now = rt.clock().getTime();
  const wait = gate.refuseLocally(key, limit, now);
  if (wait !== null) throw rateLimited(limit, wait);
  const decision = await rt.rateLimiter.hit(key, limit);
  if (!decision.allowed) {
    gate.block(key, now + decision.retryAfterSeconds * 1000);
    throw rateLimited(limit, decision.retryAfterSeconds);
  }
}

/**
 * The end of every call: suppressed refusal counts are handed to the shared budget when due, and this
 * instance's metrics are written when their interval is due (observability/metrics.ts: at most one
 * write per METRICS_FLUSH_MS per instance). A flood of refusals so costs each instance at most one
 * metrics write and one count write per interval, whoever sends it.
 */
export async function settleCall(rt: Pick<Services, "metrics" | "refusalBudget" | "clock">): Promise<void> {
  await Promise.all([flushSuppressed(rt, rt.clock().getTime()), rt.metrics.settle()]);
}
