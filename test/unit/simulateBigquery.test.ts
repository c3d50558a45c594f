import { describe, expect, it } from "vitest";
import { COMMIT_WRITES } from "../../functions/adapters/firestore/firestoreSaltBatches";
import { defaultConfig } from "../../functions/config/config";
import { DDL_MAX_BATCHING_ROWS } from "../../functions/domain/bigquery";
import { BIGQUERY_LIMITS, simulateBigquery } from "../../scripts/sim/bigquery";

// The BigQuery capacity model (npm run simulate -- --bigquery) is built from the code's own numbers;
// these tests hold it to them, and hold docs/SCALE.md's BigQuery section to what the model says.
describe("the capacity model of a BigQuery query over salts-pseudonymizeBatch", () => {
  const defaults = defaultConfig();

  it("when a billion rows over 100 million new users run with the defaults, then the pass fits BigQuery's 6 hours with creation on the ramp, and the unpaced attempt is flagged", () => {
    const r = simulateBigquery({ rows: 1e9, users: 1e8 });
    expect(r.batches).toBe(1e9 / DDL_MAX_BATCHING_ROWS);
    expect(r.seconds).toBeLessThan(BIGQUERY_LIMITS.queryHours * 3600);
    expect(r.limitedBy).toBe("write ramp");
    expect(r.peakCreatesPerSecond).toBeLessThanOrEqual(defaults.rampMaxOps * 1.0001);
    // Every salt is created once, and the query writes its pin: nothing per batch.
    expect(r.operations.writes).toBe(1e8 + 1);
    // Random order: almost every row reads a salt (no instance caches 100 M users).
    expect(r.cacheHitRatio).toBe(0);
    expect(r.operations.reads).toBeGreaterThan(0.99e9);
    // The endpoint itself does not pace creation: at full fleet it would far exceed the ramp.
    expect(r.unpacedCreatesPerSecond).toBeGreaterThan(defaults.rampMaxOps);
    expect(r.instancesWithinRamp).toBeLessThan(defaults.bigqueryMaxInstances);
  });

  it("when a batch of new users is modelled, then its Firestore requests are the adapter's: one lookup, creates in commits of 500, nothing kept per batch", () => {
    const r = simulateBigquery({ rows: 1e7, users: 1e7 });
    expect(r.batch.requests).toBe(1 + Math.ceil(DDL_MAX_BATCHING_ROWS / COMMIT_WRITES));
    expect(r.batch.roundTrips).toBe(2);
    const warm = simulateBigquery({ rows: 1e7, users: 1e7, existing: 1 });
    expect(warm.batch.requests).toBe(1);
    expect(warm.batch.roundTrips).toBe(1);
    expect(warm.operations.writes).toBe(1);
  });

  it("when the table is clustered by user, then a batch needs a tenth of the salts and the pass costs a fraction", () => {
    const random = simulateBigquery({ rows: 1e9, users: 1e8, existing: 1 });
    const clustered = simulateBigquery({ rows: 1e9, users: 1e8, existing: 1, order: "clustered" });
    expect(clustered.saltsPerBatch).toBeCloseTo(DDL_MAX_BATCHING_ROWS / 10);
    expect(clustered.operations.reads).toBeCloseTo(random.operations.reads / 10, -6);
    expect(clustered.cost.perBillionRows).toBeLessThan(random.cost.perBillionRows / 5);
    expect(clustered.seconds).toBeLessThan(random.seconds);
  });

  it("when more queries than BigQuery allows run at once, then the rest are reported waiting", () => {
    expect(simulateBigquery({ rows: 1e6, users: 1e5, queries: 12 }).queuedQueries).toBe(2);
    expect(simulateBigquery({ rows: 1e6, users: 1e5, queries: 10 }).queuedQueries).toBe(0);
  });

  it("when the users all fit one instance's cache, then most salts come from it", () => {
    expect(simulateBigquery({ rows: 1e7, users: 5e4, existing: 1 }).cacheHitRatio).toBe(0.9);
  });
});
