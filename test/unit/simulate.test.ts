import { describe, expect, it } from "vitest";
import { defaultConfig, rampOf } from "../../functions/config/config";
import { INDEX_SHARDS } from "../../functions/domain/ids";
import { queueLimits, timeForOps, WRITES_PER_ROTATION } from "../../functions/domain/ramp";
import { MAX_BATCH_ROTATIONS } from "../../functions/ports/saltStore";
import { simulate } from "../../scripts/sim/model";

// The capacity model (npm run simulate) runs the service's own job code on virtual time; these tests
// keep it and the code on the same numbers, so docs/SCALE.md cannot quietly drift from what ships.
describe("the capacity model", () => {
  it("when 20,000 salts are due under the defaults, then it fans out with the code's queue limits, writes and ramp", async () => {
    const defaults = defaultConfig();
    const r = await simulate({ users: 20_000 });

    expect(r.mode).toBe("fanout");
    expect(r.rotated).toBe(20_000);
    expect(r.queue).toEqual(queueLimits(rampOf(defaults), defaults.shardSize, WRITES_PER_ROTATION));
    // The adapter's recorded writes per rotation are the number the ramp and the queue are sized with.
    const perRotation = Object.values(r.writesPerRotation).reduce((a, b) => a + b, 0);
    expect(perRotation).toBe(WRITES_PER_ROTATION);
    // 40 shards of ROTATION_SHARD_SIZE and one planning step (four pages of ROTATION_PAGE_SIZE each).
    expect(r.tasks.enqueued).toBe(20_000 / defaults.shardSize + 1);
    // The last chunk starts once the ramp allows every write before it; not much later either.
    const bound = timeForOps(rampOf(defaults), (20_000 - MAX_BATCH_ROTATIONS) * WRITES_PER_ROTATION);
    expect(r.seconds).toBeGreaterThanOrEqual(bound);
    expect(r.seconds).toBeLessThan(bound + 60);
    for (const range of r.indexRanges.filter((x) => x.ranges === String(INDEX_SHARDS))) {
      expect(range.peak, range.index).toBeLessThanOrEqual(500);
    }
  });

  it("when ten million salts are due under the defaults, then the sweep finishes within six hours", async () => {
    const r = await simulate({ users: 10_000_000 });
    expect(r.rotated).toBe(10_000_000);
    expect(r.seconds).toBeLessThan(6 * 3600);
    // The busiest index range stays under the sequential-write limit at the ramp's ceiling.
    expect(Math.max(...r.indexRanges.map((x) => x.peak))).toBeLessThanOrEqual(500);
    // No document takes more than the ~1 write/s a document sustains (the job's heartbeat is strided).
    expect(r.peakWritesPerDocument.sustained, r.peakWritesPerDocument.doc).toBeLessThanOrEqual(1);
  }, 600_000);
});
