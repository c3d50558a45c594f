import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { RefusalBudget } from "../../functions/ports/refusalBudget";

/** A budget with nothing spent yet, on a clock the test moves (milliseconds since the epoch). */
export type BudgetHarness = (clock: { now: number }) => Promise<RefusalBudget>;

const uid = (label: string) => `${label}-${randomBytes(4).toString("hex")}`;
const limits = { perCaller: 3, shared: 5 };

/** The denied-audit budget's rule, the same on every backend. */
export function refusalBudgetContract(name: string, make: BudgetHarness): void {
  describe(`RefusalBudget contract: ${name}`, () => {
    it("when a caller's own budget is spent, then it is refused without touching the shared budget, and what it had suppressed is carried into its next entry", async () => {
      const clock = { now: 1_000_000_000_000 };
      const budget = await make(clock);
      const flooder = uid("flooder");
      const other = uid("other");
      for (let i = 0; i < 3; i++)
        expect(await budget.take(flooder, 0, limits)).toEqual({ allowed: true, suppressedBefore: 0 });
      for (let i = 0; i < 50; i++) {
        expect(await budget.take(flooder, 2, limits)).toMatchObject({ allowed: false, scope: "caller" });
      }
      expect(await budget.pending(flooder)).toBe(150); // each refusal: its two earlier ones and itself
      // The shared budget (5) saw only the flooder's 3: another caller still gets its entries written.
      expect(await budget.take(other, 0, limits)).toEqual({ allowed: true, suppressedBefore: 0 });
      expect(await budget.take(other, 0, limits)).toEqual({ allowed: true, suppressedBefore: 0 });
      expect(await budget.take(uid("third"), 0, limits)).toMatchObject({ allowed: false, scope: "shared" });
      clock.now += 61_000;
      await budget.addSuppressed(new Map([[flooder, 7]]));
      expect(await budget.take(flooder, 4, limits)).toEqual({ allowed: true, suppressedBefore: 150 + 7 + 4 });
      expect(await budget.pending(flooder)).toBe(0);
    });

    it("when the shared budget refuses after the caller's slot was taken, then the carried count stays pending for the next entry", async () => {
      const clock = { now: 1_000_000_000_000 };
      const budget = await make(clock);
      const small = { perCaller: 2, shared: 1 };
      const [a, b] = [uid("a"), uid("b")];
      expect(await budget.take(a, 0, small)).toMatchObject({ allowed: true });
      await budget.addSuppressed(new Map([[b, 3]]));
      const refused = await budget.take(b, 1, small);
      expect(refused).toMatchObject({
        allowed: false,
        scope: "shared",
        retryAfterSeconds: expect.any(Number),
      });
      expect(await budget.pending(b)).toBe(3 + 1 + 1);
      clock.now += 61_000;
      expect(await budget.take(b, 0, small)).toEqual({ allowed: true, suppressedBefore: 5 });
    });

    it("when a caller is refused, then the retry time is when its oldest entry leaves the minute", async () => {
      const clock = { now: 1_000_000_000_000 };
      const budget = await make(clock);
      const c = uid("c");
      await budget.take(c, 0, limits);
      clock.now += 20_000;
      await budget.take(c, 0, limits);
      await budget.take(c, 0, limits);
      expect(await budget.take(c, 0, limits)).toMatchObject({ allowed: false, retryAfterSeconds: 40 });
    });
  });
}
