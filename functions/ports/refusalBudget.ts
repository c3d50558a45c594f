/** What the budget of denied-call audit entries decided for one refused call. */
export type BudgetDecision =
  | {
      allowed: true;
      /** Refused calls of this caller not written since its previous denied entry (every instance's, as reported). */
      suppressedBefore: number;
    }
  | {
      allowed: false;
      /** Seconds until this budget has room again: until then a refusal is suppressed without asking. */
      retryAfterSeconds: number;
      /** Which budget was spent: the caller's own, or the one all callers share. */
      scope: "caller" | "shared";
    };

export interface BudgetLimits {
  /** Denied entries written per caller per minute (DENIED_AUDIT_PER_MINUTE). */
  perCaller: number;
  /** Denied entries written per minute for all callers together. */
  shared: number;
}

/**
 * The budget of denied-call audit entries, shared by every instance. A refused call
 * spends its caller's budget first and only then the shared one, so a caller over its
 * own budget never touches the shared budget (one flooding account cannot silence the
 * refusals of another). What is not written is counted per caller, in the same place,
 * and reported by the caller's next entry, whichever instance writes it.
 */
export interface RefusalBudget {
  /**
   * Takes a slot for one refused call of `uid`, which this instance had `earlier`
   * other refusals of that caller suppressed since it last reported. Allowed: the
   * caller's pending count is taken (reset) and returned with `earlier` as
   * `suppressedBefore`. Refused: `earlier` and this call are added to it.
   */
  take(uid: string, earlier: number, limits: BudgetLimits): Promise<BudgetDecision>;
  /** Adds refusals an instance suppressed to each caller's pending count (one batch). */
  addSuppressed(counts: ReadonlyMap<string, number>): Promise<void>;
  /** A caller's pending count (what its next entry will report beyond this instance's own). */
  pending(uid: string): Promise<number>;
}

/** How long a pending count outlives its caller's last refusal (it waits for the caller's next entry). */
export const PENDING_TTL_MS = 30 * 24 * 60 * 60 * 1000;
