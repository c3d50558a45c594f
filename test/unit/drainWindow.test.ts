import { describe, expect, it } from "vitest";
import { DRAIN_WINDOW_MS, drainWaitMs } from "../../functions/domain/events";

describe("a drain task waits for the end of its window", () => {
  const end = 1_700_000_005_000;

  it("when it runs before its window ended (a queue that ignores schedule times), then it waits past the end", () => {
    expect(drainWaitMs({ drain: true, after: end }, end - 4_000)).toBe(4_250);
    expect(drainWaitMs({ drain: true, after: end }, end)).toBe(250);
  });

  it("when it runs after its window ended (Cloud Tasks held it), then it does not wait", () => {
    expect(drainWaitMs({ drain: true, after: end }, end + 250)).toBe(0);
    expect(drainWaitMs({ drain: true, after: end }, end + 60_000)).toBe(0);
  });

  it("when the task names no window or a far one (an old task, a forged one), then it waits at most one window", () => {
    expect(drainWaitMs({ drain: true }, end)).toBe(0);
    expect(drainWaitMs(null, end)).toBe(0);
    expect(drainWaitMs({ drain: true, after: "soon" }, end)).toBe(0);
    expect(drainWaitMs({ drain: true, after: end + 3_600_000 }, end)).toBe(DRAIN_WINDOW_MS + 250);
  });
});
