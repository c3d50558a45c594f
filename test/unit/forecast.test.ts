import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { composeServices } from "../../functions/app/compose";
import { forecast } from "../../functions/usecases/forecast";
import { runtimeSecrets, testConfig } from "../support/runtimes";
import { DAY, ManualClock } from "../support/testDeps";

function memory() {
  const clock = new ManualClock(Date.parse("2026-03-10T18:00:00.000Z"));
  const rt = composeServices({
    config: testConfig({ backend: "memory", rotationJitter: 0, userDays: 10, globalDays: 3 }),
    clock: clock.now,
    secrets: runtimeSecrets({ key: randomBytes(32).toString("hex") }),
  });
  return { rt, clock };
}

describe("salts-forecast (memory backend)", () => {
  it("when salts come due on various days, then each lands in its UTC day and the past ones count as overdue", async () => {
    const { rt, clock } = memory();
    // Created now (18:00 UTC): users due in 10 days at 18:00, globals in 3 days.
    await rt.salts.getOrCreate("user", "a");
    await rt.salts.getOrCreate("global", "click");
    clock.advance(6 * 60 * 60 * 1000 - 1); // 23:59:59.999 the same day
    await rt.salts.getOrCreate("user", "b"); // due 10 days later at 23:59:59.999: still that day
    clock.advance(1); // midnight: the next UTC day
    await rt.salts.getOrCreate("user", "c"); // due 10 days later at 00:00: the next day's bucket
    clock.set(new Date("2026-03-10T18:00:00.000Z"));
    const out = await forecast(rt, { days: 30, kind: "all" });
    expect(out.buckets).toHaveLength(30);
    expect(out.buckets[0]!.date).toBe("2026-03-10");
    const on = (date: string) => out.buckets.find((b) => b.date === date)!;
    expect(on("2026-03-13")).toEqual({ date: "2026-03-13", users: 0, globals: 1 });
    expect(on("2026-03-20")).toEqual({ date: "2026-03-20", users: 2, globals: 0 });
    expect(on("2026-03-21")).toEqual({ date: "2026-03-21", users: 1, globals: 0 });
    expect(out.buckets.reduce((n, b) => n + b.users + b.globals, 0)).toBe(4);
    expect(out.overdue).toEqual({ users: 0, globals: 0 });

    clock.set(new Date("2026-03-20T20:00:00.000Z"));
    const later = await forecast(rt, { days: 1, kind: "user" });
    expect(later.buckets).toEqual([{ date: "2026-03-20", users: 1, globals: 0 }]);
    expect(later.overdue).toEqual({ users: 1, globals: 0 });
    expect((await rt.salts.countDue("user")) + 0).toBe(later.overdue.users);
  });

  it("when asked for 366 days or one kind, then the buckets and counts follow", async () => {
    const { rt, clock } = memory();
    for (let i = 0; i < 5; i++) {
      await rt.salts.getOrCreate("user", `u${i}`);
      await rt.salts.getOrCreate("global", `g${i}`);
      clock.advance(DAY);
    }
    clock.set(new Date("2026-03-10T18:00:00.000Z"));
    const year = await forecast(rt, { days: 366, kind: "all" });
    expect(year.buckets).toHaveLength(366);
    expect(year.buckets.at(-1)!.date).toBe("2027-03-10");
    expect(year.buckets.reduce((n, b) => n + b.users, 0)).toBe(5);
    const globals = await forecast(rt, { days: 366, kind: "global" });
    expect(globals.buckets.every((b) => b.users === 0)).toBe(true);
    expect(globals.buckets.reduce((n, b) => n + b.globals, 0)).toBe(5);
  });
});
