import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { composeServices } from "../../functions/app/compose";
import { linkableVersion } from "../../functions/domain/linking";
import { planCreate, planRotate } from "../../functions/domain/rotation";
import { DEFAULT_POLICY } from "../../functions/domain/policy";
import { renderMetrics } from "../../functions/observability/prometheus";
import { eraseUser } from "../../functions/usecases/erase";
import { rotateSalt } from "../../functions/usecases/rotateSalt";
import { putScope } from "../../functions/usecases/scopes";
import { runtimeSecrets, testConfig } from "../support/runtimes";
import { DAY, ManualClock } from "../support/testDeps";

const HOUR = 60 * 60 * 1000;
const ctx = { correlationId: "unit", actor: { uid: "ops", via: "cli" as const } };

function memoryRuntime(over: Parameters<typeof testConfig>[0] = {}) {
  const clock = new ManualClock();
  const rt = composeServices({
    config: testConfig({ backend: "memory", ...over }),
    clock: clock.now,
    secrets: runtimeSecrets({ key: randomBytes(32).toString("hex"), pepper: "p".repeat(40) }),
  });
  return { rt, clock };
}

describe("linking across a rotation: the rule", () => {
  const t0 = new Date("2026-03-01T00:00:00Z");
  const created = planCreate("user", "u", t0, DEFAULT_POLICY).record;
  const rotated = planRotate(created, t0, DEFAULT_POLICY, 30, "r").record;

  it("when the salt was never rotated, then there is no previous version", () => {
    expect(linkableVersion(created, t0, 48)).toBeNull();
  });

  it("when inside the window, then the previous version; at its end and after, none; a zero window links nothing", () => {
    expect(linkableVersion(rotated, new Date(t0.getTime() + 47 * HOUR), 48)).toBe(1);
    expect(linkableVersion(rotated, new Date(t0.getTime() + 48 * HOUR), 48)).toBeNull();
    expect(linkableVersion(rotated, new Date(t0.getTime() + 49 * HOUR), 48)).toBeNull();
    expect(linkableVersion(rotated, t0, 0)).toBeNull();
  });
});

describe("linking across a rotation (memory backend)", () => {
  const record = { email: "x@y.z", age: 42, note: null };
  const fields = ["email", "age", "note"];

  it("when asked within LINK_WINDOW_HOURS of a rotation, then the previous pseudonyms are what the library gave before it", async () => {
    const { rt, clock } = memoryRuntime();
    const before = (await rt.pseudonymizer.pseudonymizeUserData("u1", record, fields)).data;
    const none = await rt.scoped.pseudonymizeUserData("u1", record, fields, { withPrevious: true });
    expect(none.previous).toEqual({ email: null, age: null, note: null });
    clock.advance(DAY);
    await rotateSalt(rt, ctx, "user", "u1", {});
    clock.advance(47 * HOUR);
    const out = await rt.scoped.pseudonymizeUserData("u1", record, fields, { withPrevious: true });
    expect(out.saltVersion).toBe(2);
    expect(out.previousVersion).toBe(1);
    expect(out.previous).toEqual({ email: before.email, age: before.age, note: null });
    expect(out.data.email).not.toBe(before.email);
    expect(out.data).toEqual((await rt.pseudonymizer.pseudonymizeUserData("u1", record, fields)).data);
    expect((await rt.scoped.previousValues("u1", "email", ["x@y.z", null])).pseudonyms).toEqual([
      before.email,
      null,
    ]);
  });

  it("when the window has passed, then none is given, and the bulk form answers null for each value", async () => {
    const { rt, clock } = memoryRuntime({ linkWindowHours: 6 });
    await rt.pseudonymizer.pseudonymizeUserData("u1", record, fields);
    await rotateSalt(rt, ctx, "user", "u1", {});
    clock.advance(6 * HOUR + 1);
    const out = await rt.scoped.pseudonymizeUserData("u1", record, fields, { withPrevious: true });
    expect(out.previous).toEqual({ email: null, age: null, note: null });
    expect((await rt.scoped.previousValues("u1", "email", ["x@y.z", "a"])).pseudonyms).toEqual([null, null]);
  });

  it("when the previous version is no longer retained, then none is given even inside the window", async () => {
    const { rt } = memoryRuntime({ retentionDays: 0 });
    await rt.pseudonymizer.pseudonymizeUserData("u1", record, fields);
    await rotateSalt(rt, ctx, "user", "u1", {});
    const out = await rt.scoped.pseudonymizeUserData("u1", record, fields, { withPrevious: true });
    expect(out.previous!.email).toBeNull();
  });

  it("when the subject was erased, then no previous pseudonym is given, and the bulk form creates no salt", async () => {
    const { rt } = memoryRuntime();
    await rt.pseudonymizer.pseudonymizeUserData("u1", record, fields);
    await rotateSalt(rt, ctx, "user", "u1", {});
    await eraseUser(rt, ctx, "u1", "erasure");
    expect((await rt.scoped.previousValues("u1", "email", ["x@y.z"])).pseudonyms).toEqual([null]);
    expect(await rt.salts.record("user", "u1")).toBeNull();
    const out = await rt.scoped.pseudonymizeUserData("u1", record, fields, { withPrevious: true });
    expect(out.saltVersion).toBe(1);
    expect(out.previous).toEqual({ email: null, age: null, note: null });
  });

  it("when scoped, then the previous pseudonym is the scope's under the previous user salt", async () => {
    const { rt } = memoryRuntime();
    await putScope(rt, ctx, {
      scope_id: "a",
      description: "",
      rotation_days: 30,
      consumers: [],
      reason: "t",
    });
    const before = (await rt.scoped.pseudonymizeUserData("u1", record, fields, { scope: "a" })).data;
    await rotateSalt(rt, ctx, "user", "u1", {});
    const out = await rt.scoped.pseudonymizeUserData("u1", record, fields, {
      scope: "a",
      withPrevious: true,
    });
    expect(out.previous!.email).toBe(before.email);
    expect(out.previous!.email).toMatch(/^ps1\.su\.a\.1\.1\.1\./);
    expect(out.data.email).toMatch(/^ps1\.su\.a\.1\.2\.1\./);
  });

  it("when previous pseudonyms are asked for, then every ask is counted by outcome in salt_link_previous_total", async () => {
    const { rt, clock } = memoryRuntime({ linkWindowHours: 1 });
    await rt.pseudonymizer.pseudonymizeUserData("u1", record, fields);
    await rotateSalt(rt, ctx, "user", "u1", {});
    await rt.scoped.pseudonymizeUserData("u1", record, fields, { withPrevious: true });
    await rt.scoped.previousValues("u1", "email", ["a", "b"]);
    clock.advance(2 * HOUR);
    await rt.scoped.pseudonymizeUserData("u1", record, fields, { withPrevious: true });
    await rt.metrics.flush();
    const text = await renderMetrics(await rt.metricsStore.read(), { user: 0, global: 0 });
    expect(text).toContain('salt_link_previous_total{outcome="given"} 2');
    expect(text).toContain('salt_link_previous_total{outcome="none"} 1');
    expect(text).not.toContain('operation="link_previous"');
  });
});
