import type { ActorVia, AuditEntry } from "../domain/audit";
import { chains } from "../domain/auditChain";
import { isSaltServiceError } from "../domain/errors";
import { logs } from "../observability/logs";
import type { Services } from "../usecases/deps";

/** Suppressed counts are handed to the shared budget at most this often per instance (one batch). */
export const SUPPRESSED_FLUSH_MS = 10_000;
// After the budget could not be asked (storage down), refusals are suppressed this long without asking again.
const BUDGET_DOWN_MS = 5_000;
const MAX_CALLERS = 20_000;

/**
 * This instance's part of the denied-audit budget: the callers whose budget (or
 * the shared one) refused until a known time, so their further refusals are
 * suppressed without I/O, and how many were, until handed to the shared budget.
 */
class RefusalLedger {
  readonly local = new Map<string, number>();
  private readonly blocked = new Map<string, number>();
  private sharedUntil = 0;
  flushedAt = 0;

  isBlocked(uid: string, now: number): boolean {
    if (this.sharedUntil > now) return true;
    const until = this.blocked.get(uid);
    if (until === undefined) return false;
    if (until > now) return true;
    this.blocked.delete(uid);
    return false;
  }

  block(uid: string | null, until: number): void {
    if (uid === null) {
      this.sharedUntil = Math.max(this.sharedUntil, until);
      return;
    }
    // Beyond the bound the oldest go: a caller forgotten here is simply asked about again.
    if (!this.blocked.has(uid) && this.blocked.size >= MAX_CALLERS)
      this.blocked.delete(this.blocked.keys().next().value!);
    this.blocked.set(uid, until);
  }

  suppress(uid: string, n = 1): void {
    if (n <= 0) return;
    if (!this.local.has(uid) && this.local.size >= MAX_CALLERS) {
      const oldest = this.local.keys().next().value!;
      logs.suppressedCountsDropped(this.local.get(oldest) ?? 0);
      this.local.delete(oldest);
    }
    this.local.set(uid, (this.local.get(uid) ?? 0) + n);
  }

  takeLocal(uid: string): number {
    const n = this.local.get(uid) ?? 0;
    this.local.delete(uid);
    return n;
  }
}

const ledger = new RefusalLedger();

/**
 * Audits a refused call (permission-denied, resource-exhausted) of a signed-in
 * caller, on the caller's own chain, within the shared RefusalBudget: at most
 * DENIED_AUDIT_PER_MINUTE entries per caller per minute, spent before the
 * budget all callers share (twenty times that), which a caller over its own
 * never touches. Once a budget refused, this instance suppresses the caller's
 * refusals until the budget's retry time without any I/O, counting them; the
 * counts reach the shared budget (per caller, in the same document) at the
 * first call this instance serves SUPPRESSED_FLUSH_MS after its last hand-over,
 * or at the caller's next entry from this instance; the caller's next entry,
 * written by whichever instance, reports what was handed over as
 * `suppressed_before` (what another instance still holds goes into a later one).
 */
export async function auditDenied(
  s: Pick<Services, "audit" | "refusalBudget" | "config" | "clock">,
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
  const now = s.clock().getTime();
  if (ledger.isBlocked(entry.uid, now)) {
    ledger.suppress(entry.uid);
    await flushSuppressed(s, now);
    return;
  }
  const earlier = ledger.takeLocal(entry.uid);
  const limits = { perCaller: s.config.deniedAuditPerMinute, shared: s.config.deniedAuditPerMinute * 20 };
  const decision = await s.refusalBudget.take(entry.uid, earlier, limits).catch((e: unknown) => {
    // Without the budget, refuse to write rather than let a flood through (the refusal itself stands).
    logs.auditWriteFailed(entry.operation, entry.correlationId, e);
    ledger.suppress(entry.uid, earlier + 1);
    ledger.block(entry.uid, now + BUDGET_DOWN_MS);
    return null;
  });
  if (!decision) return;
  if (!decision.allowed) {
    ledger.block(decision.scope === "caller" ? entry.uid : null, now + decision.retryAfterSeconds * 1000);
    return;
  }
  await s.audit
    .appendAudit(
      {
        actor: { uid: entry.uid, via: entry.via ?? "callable" },
        operation: entry.operation,
        target: entry.target,
        result: "denied",
        correlation_id: entry.correlationId,
        details: { code: entry.code, suppressed_before: decision.suppressedBefore },
      },
      chains.caller(entry.uid),
    )
    .catch((e: unknown) => {
      logs.auditWriteFailed(entry.operation, entry.correlationId, e);
      // Not written: this refusal and what it carried are counted again, for the next entry.
      ledger.suppress(entry.uid, decision.suppressedBefore + 1);
    });
}

/**
 * Hands this instance's suppressed counts to the shared budget, at most once
 * per SUPPRESSED_FLUSH_MS (one batch for every caller): called after every
 * suppression and at the end of every call, so counts do not wait for the
 * same caller to come back.
 */
export async function flushSuppressed(s: Pick<Services, "refusalBudget">, now: number): Promise<void> {
  if (ledger.local.size === 0 || now - ledger.flushedAt < SUPPRESSED_FLUSH_MS) return;
  ledger.flushedAt = now;
  const counts = new Map(ledger.local);
  ledger.local.clear();
  await s.refusalBudget.addSuppressed(counts).catch((e: unknown) => {
    // Certainly not written: keep them for the next flush. Outcome unknown: let them go (never count twice).
    const kept = isSaltServiceError(e) && e.code === "unavailable";
    if (kept) for (const [uid, n] of counts) ledger.suppress(uid, n);
    logs.suppressedCountsNotWritten(kept, e);
  });
}
