import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { StaticIdentity } from "../../functions/adapters/firebaseIdentity";
import { composeServices } from "../../functions/app/compose";
import { handleCall } from "../../functions/edge/callable";
import { schemas } from "../../functions/edge/schemas";
import type { Services } from "../../functions/usecases/deps";
import { getStatus } from "../../functions/usecases/status";
import { runtimeSecrets, testConfig } from "../support/runtimes";
import { DAY, ManualClock } from "../support/testDeps";
import { callableRequest } from "../support/callableRequest";

const spec = {
  operation: "status",
  role: "auditor" as const,
  mutating: false,
  schema: schemas.status,
  secrets: [],
  run: getStatus,
};
const request = (uid?: string) => callableRequest(uid);

// The pipeline's per-instance state lives for the process: each test runs on a later day of its own.
let day = 0;

/** A memory runtime whose Auth lookups, shared-limiter asks, budget takes and metrics writes are counted. */
function counted(over: Parameters<typeof testConfig>[0]) {
  const clock = new ManualClock(Date.parse("2026-01-01T00:00:00.000Z") + ++day * 10 * DAY);
  const users = new StaticIdentity();
  const counts = { lookups: 0, limiter: 0, takes: 0, metricWrites: 0 };
  const identity = {
    lookup: (uid: string) => {
      counts.lookups++;
      return users.lookup(uid);
    },
  };
  const rt: Services = composeServices({
    config: testConfig({ backend: "memory", ...over }),
    clock: clock.now,
    secrets: runtimeSecrets({ key: randomBytes(32).toString("hex") }),
    identity,
  });
  const hit = rt.rateLimiter.hit.bind(rt.rateLimiter);
  Object.assign(rt.rateLimiter, { hit: (k: string, l: number) => (counts.limiter++, hit(k, l)) });
  const take = rt.refusalBudget.take.bind(rt.refusalBudget);
  Object.assign(rt.refusalBudget, {
    take: (...a: Parameters<typeof take>) => (counts.takes++, take(...a)),
  });
  const add = rt.metricsStore.add.bind(rt.metricsStore);
  Object.assign(rt.metricsStore, { add: (d: Parameters<typeof add>[0]) => (counts.metricWrites++, add(d)) });
  const nobody = (uid: string) => users.set(uid, { disabled: false, validSince: null, claims: {} });
  return { rt, clock, counts, nobody };
}

const refusedCode = async (rt: Services, uid?: string) =>
  handleCall(spec, request(uid), rt).then(
    () => "ok",
    (e: { code: string }) => e.code,
  );

describe("refusals under a flood (the callable pipeline on the memory backend)", () => {
  it("when a caller calls far beyond its rate limit, then only the calls the limit admits cost an Auth lookup or a shared-limiter ask", async () => {
    const { rt, clock, counts, nobody } = counted({ rateLimitPerMinute: 5 });
    nobody("prober");
    const codes = [];
    for (let i = 0; i < 200; i++) codes.push(await refusedCode(rt, "prober"));
    expect(codes.filter((c) => c === "permission-denied")).toHaveLength(5);
    expect(codes.filter((c) => c === "resource-exhausted")).toHaveLength(195);
    expect(counts).toMatchObject({ lookups: 5, limiter: 5 });
    clock.advance(61_000); // the bucket refills
    expect(await refusedCode(rt, "prober")).toBe("permission-denied");
    expect(counts).toMatchObject({ lookups: 6, limiter: 6 });
  });

  it("when the shared limiter refuses (other instances spent the minute), then this instance keeps its answer until the retry time and asks no more", async () => {
    const { rt, clock, counts, nobody } = counted({ rateLimitPerMinute: 5 });
    nobody("spread");
    for (let i = 0; i < 5; i++) await rt.rateLimiter.hit("status:spread", 5); // as other instances did
    counts.limiter = 0;
    for (let i = 0; i < 4; i++) expect(await refusedCode(rt, "spread")).toBe("resource-exhausted");
    expect(counts).toMatchObject({ limiter: 1, lookups: 0 });
    clock.advance(61_000);
    expect(await refusedCode(rt, "spread")).toBe("permission-denied");
    expect(counts).toMatchObject({ limiter: 2, lookups: 1 });
  });

  it("when calls carry no ID token, then they are refused with no I/O but one metrics write per flush interval", async () => {
    const { rt, counts } = counted({});
    for (let i = 0; i < 100; i++) expect(await refusedCode(rt)).toBe("unauthenticated");
    expect(counts).toMatchObject({ lookups: 0, limiter: 0, takes: 0 });
    expect(counts.metricWrites).toBeLessThanOrEqual(1);
  });

  it("when a caller floods past its own denied-audit budget, then the shared one is never touched again, another caller's refusal is written, and the next entry reports every suppressed refusal", async () => {
    const { rt, clock, counts, nobody } = counted({ rateLimitPerMinute: 1000, deniedAuditPerMinute: 3 });
    nobody("flooder");
    nobody("bystander");
    for (let i = 0; i < 100; i++) expect(await refusedCode(rt, "flooder")).toBe("permission-denied");
    expect(counts.takes).toBe(4); // three entries, then the refusal that blocks this instance until the retry time
    expect(await refusedCode(rt, "bystander")).toBe("permission-denied");
    const denied = async (uid: string) =>
      (await rt.audit.listAudit({ limit: 50, result: "denied" })).items.filter((e) => e.actor.uid === uid);
    expect(await denied("flooder")).toHaveLength(3);
    expect(await denied("bystander")).toHaveLength(1);
    clock.advance(61_000);
    expect(await refusedCode(rt, "flooder")).toBe("permission-denied");
    const entries = await denied("flooder");
    expect(entries).toHaveLength(4);
    expect(entries[0]!.details).toMatchObject({ code: "permission-denied", suppressed_before: 97 });
    expect(await rt.refusalBudget.pending("flooder")).toBe(0);
  });
});
