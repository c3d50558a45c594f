import type { ActorVia, AuditEntry } from "../domain/audit";
import { chains } from "../domain/auditChain";
import { logs } from "../observability/logs";
import type { Services } from "../usecases/deps";

// Refused calls not written since the caller's last denied entry, per instance: summed into the next one.
const suppressed = new Map<string, number>();

/**
 * Audits a refused call (permission-denied, resource-exhausted) of a signed-in
 * caller, on the caller's own chain. At most DENIED_AUDIT_PER_MINUTE entries per
 * caller per minute, and twenty times that for all callers together, are
 * written (the shared rate limiter decides; over it, nothing is written); the rest are counted here and reported as `suppressed`
 * in the caller's next entry and in the `denied` metric, so flooding costs
 * reads, never storage.
 */
export async function auditDenied(
  s: Pick<Services, "audit" | "rateLimiter" | "config">,
  entry: {
    uid: string;
    operation: string;
    target: AuditEntry["target"];
    code: string;
    correlationId: string;
    /** How the caller came (default: a callable). */
    via?: ActorVia;
  },
): Promise<void> {
  // Per caller, and for everyone together (accounts are cheap to make where sign-up is open).
  const allowed = await Promise.all([
    s.rateLimiter.hit(`denied-audit:${entry.uid}`, s.config.deniedAuditPerMinute),
    s.rateLimiter.hit("denied-audit:*", s.config.deniedAuditPerMinute * 20),
  ]).then(
    (d) => d.every((x) => x.allowed),
    // Without the limiter, refuse to write rather than let a flood through (the refusal itself stands).
    () => false,
  );
  if (!allowed) {
    suppressed.set(entry.uid, (suppressed.get(entry.uid) ?? 0) + 1);
    return;
  }
  const earlier = suppressed.get(entry.uid) ?? 0;
  suppressed.delete(entry.uid);
  if (suppressed.size > 10_000) suppressed.clear();
  await s.audit
    .appendAudit(
      {
        actor: { uid: entry.uid, via: entry.via ?? "callable" },
        operation: entry.operation,
        target: entry.target,
        result: "denied",
        correlation_id: entry.correlationId,
        details: { code: entry.code, suppressed_before: earlier },
      },
      chains.caller(entry.uid),
    )
    .catch((e: unknown) => logs.auditWriteFailed(entry.operation, entry.correlationId, e));
}
