import { describe, expect, it } from "vitest";
import type { InProcessTaskQueue } from "../../functions/adapters/taskQueues";
import { MemoryState } from "../../functions/adapters/memory/memoryState";
import { composeServices } from "../../functions/app/compose";
import { outcomeUnknown } from "../../functions/domain/errors";
import type { Services } from "../../functions/usecases/deps";
import { startRewrap } from "../../functions/usecases/jobs/rewrap";
import { jobStatus } from "../../functions/usecases/jobs/status";
import { runtimeSecrets, testConfig } from "../support/runtimes";
import { TestSecret } from "../support/testDeps";

// Rewrap jobs (memory backend) when they race each other or a chunk is retried: every salt is
// rewrapped exactly once, with one audit entry, and no job counts a salt it did not rewrap as failed.

const ctx = { correlationId: "unit", actor: { uid: "ops", via: "cli" as const } };
const N = 120;

/** Instances sharing one store and one key ring, as instances of a deployment share Firestore. */
function deployment(over: Parameters<typeof testConfig>[0] = {}) {
  const state = new MemoryState();
  const keys = new TestSecret("SALT_ENCRYPTION_KEY");
  const instance = (): Services =>
    composeServices({
      config: testConfig({ backend: "memory", pageSize: 20, concurrency: 4, ...over }),
      memoryState: state,
      secrets: { ...runtimeSecrets({ key: "unused".padEnd(64, "0") }), keys },
      inProcessTasks: true,
    });
  return { state, keys, instance };
}

async function seed(rt: Services): Promise<void> {
  const audit = { actor: ctx.actor, correlation_id: "seed", operation: "rotate_user" };
  for (let i = 0; i < N; i++) {
    await rt.salts.getOrCreate("user", `u${i}`);
    if (i % 3 === 0) await rt.salts.rotate("user", `u${i}`, { rotationId: `r${i}`, audit });
  }
}

/** Audit entries of salts rewrapped, by salt id. */
const rewrapEntries = (state: MemoryState) =>
  state.audit.filter((e) => e.operation === "rewrap" && e.target.kind === "user").map((e) => e.target.id);

describe("rewrap jobs racing and retried (memory backend)", () => {
  it("when two rewrap jobs run at once over the same salts, then each salt is rewrapped by exactly one of them", async () => {
    const { state, keys, instance } = deployment();
    const [a, b] = [instance(), instance()];
    await seed(a);
    keys.add();
    const [ra, rb] = await Promise.all([
      startRewrap(a, ctx, { dry_run: false }),
      startRewrap(b, ctx, { dry_run: false }),
    ]);
    expect(ra.failed + rb.failed).toBe(0);
    expect(ra.rewrapped + rb.rewrapped).toBe(N);
    const entries = rewrapEntries(state);
    expect(entries).toHaveLength(N);
    expect(new Set(entries).size).toBe(N);
    expect(await a.salts.countNeedingRewrap("user", 2)).toBe(0);
  });

  it("when a shard's commit succeeds but its answer is lost, then the retried shard finds its work done and nothing is rewrapped twice", async () => {
    const { state, keys, instance } = deployment({ inlineLimit: 10, shardSize: 30 });
    const rt = instance();
    await seed(rt);
    keys.add();
    const rewrap = rt.salts.rewrap.bind(rt.salts);
    let lost = 0;
    // The second chunk commits, then storage does not confirm it: the queue retries the shard.
    rt.salts.rewrap = async (items) => {
      const out = await rewrap(items);
      if (++lost === 2) throw outcomeUnknown("rewrap");
      return out;
    };
    const started = await startRewrap(rt, ctx, { dry_run: false });
    expect(started.mode).toBe("fanout");
    await (rt.tasks as InProcessTaskQueue).drain();
    expect(lost).toBeGreaterThan(2);
    const job = await jobStatus(rt, started.job_id);
    expect(job).toMatchObject({ state: "done", rewrapped: N, failed: 0, skipped: 0 });
    const entries = rewrapEntries(state);
    expect(entries).toHaveLength(N);
    expect(new Set(entries).size).toBe(N);
    expect(await rt.salts.countNeedingRewrap("user", 2)).toBe(0);
  });
});
