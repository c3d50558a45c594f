import { slide } from "../../ports/rateLimiter";
import type { BudgetDecision, BudgetLimits, RefusalBudget } from "../../ports/refusalBudget";

/** The denied-audit budget of one process (memory backend): the same rule as Firestore's, synchronously. */
export class MemoryRefusalBudget implements RefusalBudget {
  private readonly callers = new Map<string, { hits: number[]; suppressed: number }>();
  private shared: number[] = [];

  constructor(private readonly clock: () => Date = () => new Date()) {}

  async take(uid: string, earlier: number, limits: BudgetLimits): Promise<BudgetDecision> {
    await Promise.resolve();
    const now = this.clock().getTime();
    const caller = this.callers.get(uid) ?? { hits: [], suppressed: 0 };
    this.callers.set(uid, caller);
    const own = slide(caller.hits, now, limits.perCaller);
    if (!own.decision.allowed) {
      caller.suppressed += earlier + 1;
      return { allowed: false, retryAfterSeconds: own.decision.retryAfterSeconds, scope: "caller" };
    }
    const all = slide(this.shared, now, limits.shared);
    caller.hits = own.hits;
    if (!all.decision.allowed) {
      caller.suppressed += earlier + 1;
      return { allowed: false, retryAfterSeconds: all.decision.retryAfterSeconds, scope: "shared" };
    }
    this.shared = all.hits;
    const suppressedBefore = caller.suppressed + earlier;
    caller.suppressed = 0;
    return { allowed: true, suppressedBefore };
  }

  async addSuppressed(counts: ReadonlyMap<string, number>): Promise<void> {
    await Promise.resolve();
    for (const [uid, n] of counts) {
      const caller = this.callers.get(uid) ?? { hits: [], suppressed: 0 };
      caller.suppressed += n;
      this.callers.set(uid, caller);
    }
  }

  async pending(uid: string): Promise<number> {
    await Promise.resolve();
    return this.callers.get(uid)?.suppressed ?? 0;
  }
}
