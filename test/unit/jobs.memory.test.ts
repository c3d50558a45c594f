import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InProcessTaskQueue } from "../../functions/adapters/taskQueues";
import { StaticIdentity } from "../../functions/adapters/firebaseIdentity";
import { composeServices } from "../../functions/app/compose";
import { handleCall } from "../../functions/edge/callable";
import { schemas } from "../../functions/edge/schemas";
import { startRotateDue } from "../../functions/usecases/jobs/rotation";
import { jobStatus } from "../../functions/usecases/jobs/status";
import { reloadConfig, stageIntervals } from "../../functions/usecases/reloadConfig";
import { getStatus } from "../../functions/usecases/status";
import { runtimeSecrets, testConfig } from "../support/runtimes";
import { DAY, ManualClock } from "../support/testDeps";

function memoryRuntime(over: Parameters<typeof testConfig>[0] = {}, identity?: StaticIdentity) {
  const clock = new ManualClock();
  const rt = composeServices({
    config: testConfig({ backend: "memory", ...over }),
    clock: clock.now,
    secrets: runtimeSecrets({ key: randomBytes(32).toString("hex"), pepper: "p".repeat(40) }),
    ...(identity ? { identity } : {}),
  });
  return { rt, clock };
}

const ctx = { correlationId: "unit", actor: { uid: "ops", via: "cli" as const } };

describe("batch jobs on the memory backend (in-process task queue)", () => {
  it("when more salts are due than the inline limit, then planning pages split into shards and every salt rotates once", async () => {
    const { rt, clock } = memoryRuntime({ inlineLimit: 10, shardSize: 7, pageSize: 20 });
    for (let i = 0; i < 100; i++) await rt.salts.getOrCreate("user", `u${i}`);
    await rt.salts.getOrCreate("global", "click");
    clock.advance(91 * DAY);

    const dry = await startRotateDue(rt, ctx, { kind: "all", dry_run: true });
    expect(dry).toMatchObject({ mode: "dry_run", due: { users: 100, globals: 1 }, rotated: 0, queued: 0 });

    const started = await startRotateDue(rt, ctx, { kind: "all", dry_run: false });
    expect(started).toMatchObject({ mode: "fanout", queued: 101, rotated: 0 });
    await (rt.tasks as InProcessTaskQueue).drain();
    const job = await jobStatus(rt, started.job_id);
    expect(job).toMatchObject({ state: "done", total: 101, rotated: 101, failed: 0, skipped: 0 });
    // Pages of 20 users (5 pages) in shards of at most 7 (3 per page), then one page for the global salt.
    expect(job.shards).toEqual({ total: 16, done: 16, failed: 0 });
    expect((await getStatus(rt)).users.due).toBe(0);
    for (let i = 0; i < 100; i++) expect((await rt.salts.get("user", `u${i}`))?.record.version).toBe(2);
  });

  it("when the limit is below the due count, then exactly that many rotate and the rest stay due", async () => {
    const { rt, clock } = memoryRuntime({ inlineLimit: 1000, pageSize: 4, concurrency: 2 });
    for (let i = 0; i < 30; i++) await rt.salts.getOrCreate("user", `u${i}`);
    clock.advance(91 * DAY);
    const out = await startRotateDue(rt, ctx, { kind: "user", limit: 13, dry_run: false });
    expect(out).toMatchObject({ mode: "inline", rotated: 13, failed: 0 });
    expect(await rt.salts.countDue("user")).toBe(17);
    expect((await jobStatus(rt, out.job_id)).state).toBe("done");
  });
});

describe("reload reschedules every stored due date (memory backend)", () => {
  it("when the user interval shortens and is reloaded, then stored due dates follow at once and due counts with them", async () => {
    const { rt, clock } = memoryRuntime({ rotationJitter: 0 });
    for (let i = 0; i < 12; i++) await rt.salts.getOrCreate("user", `r${i}`);
    clock.advance(50 * DAY);
    expect(await rt.salts.countDue("user")).toBe(0);
    await stageIntervals(rt, ctx, { user_days: 45 });
    const out = await reloadConfig(rt, ctx);
    expect(out.rotation_intervals).toEqual({ user_days: 45, global_days: 30 });
    expect(out.reschedule).toMatchObject({ mode: "inline", total: 12, rescheduled: 12 });
    expect(await rt.salts.countDue("user")).toBe(12);
    const record = await rt.salts.record("user", "r0");
    expect(record!.next_rotation.getTime() - record!.last_rotated.getTime()).toBe(45 * DAY);
    expect((await jobStatus(rt, out.reschedule.job_id)).type).toBe("reschedule");
  });
});

describe("the callable pipeline, called directly", () => {
  const spec = {
    operation: "status",
    role: "auditor" as const,
    mutating: false,
    schema: schemas.status,
    secrets: [],
    run: getStatus,
  };
  const request = (
    data: unknown,
    uid?: string,
    headers: Record<string, string> = {},
    token: Record<string, unknown> = {},
  ) =>
    ({
      data,
      auth: uid ? { uid, token: { auth_time: Math.floor(Date.now() / 1000), ...token } } : undefined,
      rawRequest: { headers },
      acceptsStreaming: false,
    }) as never;
  const identity = () =>
    new StaticIdentity(
      new Map([
        ["auditor-1", { disabled: false, validSince: null, claims: { auditor: true } }],
        ["admin-1", { disabled: false, validSince: null, claims: { admin: true } }],
        ["plain-1", { disabled: false, validSince: null, claims: {} }],
        ["demoted-1", { disabled: false, validSince: null, claims: {} }],
        [
          "revoked-1",
          { disabled: false, validSince: new Date(Date.now() + 60_000), claims: { admin: true } },
        ],
      ]),
    );

  it("when called with and without roles, then the answer, the error codes and the metrics follow", async () => {
    const { rt } = memoryRuntime({ rateLimitPerMinute: 2 }, identity());
    const ok = await handleCall(spec, request({}, "auditor-1", { "x-correlation-id": "c-1" }), rt);
    expect(ok).toMatchObject({ storage_type: "memory", degraded: true, correlation_id: "c-1" });
    await expect(handleCall(spec, request({}), rt)).rejects.toMatchObject({ code: "unauthenticated" });
    await expect(handleCall(spec, request({}, "plain-1"), rt)).rejects.toMatchObject({
      code: "permission-denied",
    });
    // Roles are the account's current claims, not what an old token says.
    await expect(handleCall(spec, request({}, "demoted-1", {}, { admin: true }), rt)).rejects.toMatchObject({
      code: "permission-denied",
    });
    await expect(handleCall(spec, request({}, "revoked-1"), rt)).rejects.toMatchObject({
      code: "unauthenticated",
    });
    await expect(handleCall(spec, request({ x: 1 }, "admin-1"), rt)).rejects.toMatchObject({
      code: "invalid-argument",
      details: { issues: [{ path: "x", message: "is not a known field" }] },
    });
    await expect(handleCall(spec, request({}, "admin-1"), rt)).resolves.toMatchObject({
      storage_type: "memory",
    });
    await expect(handleCall(spec, request({}, "admin-1"), rt)).rejects.toMatchObject({
      code: "resource-exhausted",
      details: { retry_after_seconds: expect.any(Number) },
    });
    // After a refusal an instance writes its metrics at most every 10 s (edge/refusals.ts): the next
    // call that ran would carry the last refusal's count; flush it as that call would.
    await rt.metrics.flush();
    const totals = await rt.metricsStore.read();
    const count = (result: string) =>
      totals.find((a) => a.operation === "status" && a.result === result)?.count;
    expect(count("success")).toBe(2);
    expect(count("error")).toBe(3);
    expect(count("denied")).toBe(3);
    const denied = (await rt.audit.listAudit({ limit: 10, result: "denied" })).items;
    expect(denied.map((e) => e.actor.uid).sort()).toEqual(["admin-1", "demoted-1", "plain-1"]);
    expect(denied.every((e) => e.integrity?.chain.startsWith("caller:"))).toBe(true);
  });
});
