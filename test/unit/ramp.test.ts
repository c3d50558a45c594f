import { describe, expect, it } from "vitest";
import { rampOf } from "../../functions/config/config";
import {
  heartbeatStride,
  queueLimits,
  rateAt,
  timeForOps,
  WRITES_PER_ROTATION,
} from "../../functions/domain/ramp";
import { renewsHeartbeat, type JobRecord } from "../../functions/domain/jobs";
import { tokenMatches } from "../../functions/edge/metricsEndpoint";
import { parseJobTask } from "../../functions/edge/tasks";
import { Pacer } from "../../functions/usecases/jobs/pacer";
import { testConfig } from "../support/runtimes";

const ramp = rampOf(testConfig({ rampStartOps: 500, rampMaxOps: 10_000 }));

describe("the 500/50/5 ramp", () => {
  it("when a job runs, then the allowed rate starts at 500/s and grows by half every 5 minutes up to the ceiling", () => {
    expect(rateAt(ramp, 0)).toBe(500);
    expect(rateAt(ramp, 299)).toBe(500);
    expect(rateAt(ramp, 300)).toBe(750);
    expect(rateAt(ramp, 600)).toBe(1125);
    expect(rateAt(ramp, 24 * 3600)).toBe(10_000);
  });

  it("when writes are counted, then timeForOps inverts the cumulative ramp", () => {
    expect(timeForOps(ramp, 0)).toBe(0);
    expect(timeForOps(ramp, 500)).toBe(1);
    expect(timeForOps(ramp, 500 * 300)).toBe(300);
    expect(timeForOps(ramp, 500 * 300 + 750)).toBe(301);
    // Never faster than the ramp: the allowed total at any time t is at most the integral of the rate.
    for (const ops of [1e4, 1e6, 3e7]) {
      const t = timeForOps(ramp, ops);
      let allowed = 0;
      for (let s = 0; s < t; s += 1) allowed += rateAt(ramp, s) * Math.min(1, t - s);
      expect(allowed).toBeGreaterThanOrEqual(ops * 0.999);
    }
  });

  it("when the queue is configured, then its limits come from the same ceiling", () => {
    const limits = queueLimits(ramp, 500, WRITES_PER_ROTATION);
    // Four writes per rotation (salt, retired version, audit entry, outbox event).
    expect(limits.maxDispatchesPerSecond).toBe(Math.floor(10_000 / (500 * 4)));
    expect(limits.maxConcurrentDispatches).toBe(10);
  });

  it("when shards finish, then one in a stride renews the job's heartbeat, and any shard once it is a third stale", () => {
    const stride = heartbeatStride(ramp, 500, WRITES_PER_ROTATION);
    // Twice the queue's dispatch rate: at most one heartbeat write every two seconds at full speed.
    expect(stride).toBe(2 * queueLimits(ramp, 500, WRITES_PER_ROTATION).maxDispatchesPerSecond);
    expect(stride).toBe(10);
    const now = new Date("2026-01-01T00:10:00Z");
    const job = (secondsAgo: number) =>
      ({ heartbeat_at: new Date(now.getTime() - secondsAgo * 1000) }) as JobRecord;
    expect(renewsHeartbeat(0, stride, job(1), now, 900)).toBe(true);
    expect(renewsHeartbeat(20, stride, job(1), now, 900)).toBe(true);
    expect(renewsHeartbeat(5, stride, job(1), now, 900)).toBe(false);
    expect(renewsHeartbeat(5, stride, job(300), now, 900)).toBe(false);
    expect(renewsHeartbeat(5, stride, job(301), now, 900)).toBe(true);
  });

  it("when shards start at their place on the ramp, then the pacer waits exactly as long as the ramp asks", async () => {
    let now = 1_000_000;
    const pacer = new Pacer(ramp, now, 500 * 10, () => now);
    expect(pacer.delaySeconds()).toBeCloseTo(10);
    now += 10_000;
    const t0 = Date.now();
    await pacer.take(5);
    expect(Date.now() - t0).toBeLessThan(50);
  });
});

describe("small edge rules", () => {
  it("when the metrics token is stored with a trailing newline, then the trimmed token still matches", () => {
    expect(tokenMatches("s3cret", "s3cret\n")).toBe(true);
    expect(tokenMatches("s3cret", "other\n")).toBe(false);
    expect(tokenMatches("", "\n")).toBe(false);
  });

  it("when a task payload is malformed, then it is refused by the schema, naming the fields", () => {
    expect(
      parseJobTask({ type: "shard", job_id: "job_abc_0123456789ab", shard: 0, items: [] }),
    ).toMatchObject({ type: "shard" });
    expect(() =>
      parseJobTask({
        type: "shard",
        job_id: "../x",
        shard: -1,
        items: [{ kind: "user", id: "", version: 0 }],
      }),
    ).toThrow(/job_id.*shard.*items\.0/s);
    expect(() => parseJobTask({ type: "plan", job_id: "job_abc_0123456789ab", extra: 1 })).toThrow(
      /invalid/i,
    );
  });
});
