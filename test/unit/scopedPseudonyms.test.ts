import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { composeServices } from "../../functions/app/compose";
import { parsePseudonym, deriveFieldKey, subjectKey } from "../../functions/domain/pseudonym";
import {
  deriveScopeKey,
  isConsumer,
  parseScopedPseudonym,
  scopedKey,
  scopedPrefix,
} from "../../functions/domain/scope";
import { eraseUser } from "../../functions/usecases/erase";
import { startScopeRotation } from "../../functions/usecases/jobs/scopeRotation";
import { runSweep } from "../../functions/usecases/sweep";
import { rotateSalt } from "../../functions/usecases/rotateSalt";
import { putScope, rotateScope } from "../../functions/usecases/scopes";
import { runtimeSecrets, testConfig } from "../support/runtimes";
import { DAY, ManualClock } from "../support/testDeps";

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

const scope = (scope_id: string, over: object = {}) => ({
  scope_id,
  description: `audience ${scope_id}`,
  rotation_days: 30,
  consumers: ["uid-consumer", "BQ@demo.iam.gserviceaccount.com"],
  reason: "test",
  ...over,
});

// Pinned vectors of docs/CRYPTO.md, "Scoped pseudonyms" (the same table; computed there in Python too).
const PEPPER = Buffer.alloc(32, 0x70); // "pppp..."
const SALT = Buffer.alloc(32, 0x73); // "ssss..."
const SECRET = Buffer.alloc(32, 0x63); // "cccc..." (the scope secret)
const SHRED = Buffer.alloc(32, 0x64); // "dddd..." (the subject's shred secret)

describe("scoped pseudonyms: test vectors", () => {
  it("when the inputs are fixed, then the scope key and the scoped user pseudonym are exactly the pinned ones", () => {
    const sk = deriveScopeKey(PEPPER, "partner-a", 2, SECRET);
    expect(sk.toString("hex")).toBe("b628862e576e941738ca08b563f33c05b4d329844508014d5e28ce87cf620412");
    const key = scopedKey(deriveFieldKey(PEPPER, "user", "", "email", SALT), sk);
    expect(key.bytes.toString("hex")).toBe(
      "46b9ad8f69fc396c6a66fbc1f4d0a950f903a449759dd45d368b19a6cd2d35fd",
    );
    const prefix = scopedPrefix("user", "partner-a", 2, 3, 2);
    expect(prefix + key.tagBase64url("alice@example.com")).toBe(
      "ps1.su.partner-a.2.3.2._eiBdiTSxH1Xawyzx8yX4iX1dAw2VasDEd4gcMEQn-s",
    );
    expect(prefix + key.tagBase64url(42)).toBe(
      "ps1.su.partner-a.2.3.2.VPA3V0vx6QhhaVpnErZJrSsMkJCa5CrUR-vv6E8BpSs",
    );
  });

  it("when the inputs are fixed, then the scoped event pseudonym (bound to its subject) is exactly the pinned one", () => {
    const sk = deriveScopeKey(PEPPER, "dataset_1", 1, SECRET);
    expect(sk.toString("hex")).toBe("003dec674f8d2c8231415fafb2382379cb3e451766b84bc1a92c10d6cc82109a");
    const base = subjectKey(deriveFieldKey(PEPPER, "global", "page_view", "user_id", SALT), SHRED);
    expect(scopedPrefix("global", "dataset_1", 1, 1, 1) + scopedKey(base, sk).tagBase64url("u-123")).toBe(
      "ps1.sg.dataset_1.1.1.1.L85rMl224w1TD2WsZEvplRIh-FKAFkh6q2Xyjsjn8Ek",
    );
  });

  it("when computed independently from the written construction, then it agrees", () => {
    const lp = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const hmac = (k: Buffer, ...parts: Buffer[]) =>
      createHmac("sha256", k).update(Buffer.concat(parts)).digest();
    const text = (s: string) => lp(Buffer.from(s));
    const sk = hmac(PEPPER, text("ps1-scope"), text("partner-a"), text("2"), lp(SECRET));
    const fk = hmac(PEPPER, text("ps1"), text("u"), text(""), text("email"), lp(SALT));
    const tag = hmac(hmac(fk, text("ps1-scoped"), lp(sk)), Buffer.from("salice@example.com"));
    expect(`ps1.su.partner-a.2.3.2.${tag.toString("base64url")}`).toBe(
      "ps1.su.partner-a.2.3.2._eiBdiTSxH1Xawyzx8yX4iX1dAw2VasDEd4gcMEQn-s",
    );
  });

  it("when formats are parsed, then a scoped pseudonym is never taken for an unscoped one nor the reverse", () => {
    const scoped = "ps1.su.partner-a.2.3.2._eiBdiTSxH1Xawyzx8yX4iX1dAw2VasDEd4gcMEQn-s";
    expect(parseScopedPseudonym(scoped)).toMatchObject({
      kind: "user",
      scopeId: "partner-a",
      scopeVersion: 2,
      saltVersion: 3,
      pepperVersion: 2,
    });
    expect(() => parsePseudonym(scoped)).toThrow();
    expect(parseScopedPseudonym("ps1.u.3.2.dygTNJaUYpYtzULyswMwlI816V_rFi4U_uFe4fBbc-Y")).toBeNull();
    // A scope id made of digits, or named like a kind, still sits in its own field.
    expect(parseScopedPseudonym(scoped.replace("partner-a", "12"))).toMatchObject({
      scopeId: "12",
      scopeVersion: 2,
    });
    expect(parseScopedPseudonym(scoped.replace("partner-a", "u"))).toMatchObject({
      scopeId: "u",
      kind: "user",
    });
    // Missing or extra parts, a dot or capital in the scope id, a non-canonical tag: refused.
    for (const bad of [
      scoped.replace("partner-a.", ""),
      scoped.replace("partner-a", "partner.a"),
      scoped.replace("partner-a", "Partner-a"),
      scoped.replace(".2.3.2.", ".2.3.2.2."),
      scoped.replace("n-s", "n-t"),
      scoped.replace("ps1.su.", "ps1.sx."),
    ])
      expect(parseScopedPseudonym(bad), bad).toBeNull();
  });

  it("when consumers are matched, then emails match without case and uids exactly", () => {
    const s = { consumers: ["BQ@demo.iam.gserviceaccount.com", "Uid-1"] };
    expect(isConsumer(s, "bq@demo.iam.gserviceaccount.com")).toBe(true);
    expect(isConsumer(s, "Uid-1")).toBe(true);
    expect(isConsumer(s, "uid-1")).toBe(false);
    expect(isConsumer(s, "other@demo.iam.gserviceaccount.com")).toBe(false);
  });
});

describe("scopes on the memory backend", () => {
  it("when three scopes pseudonymize 10,000 subjects, then no two pseudonyms collide, across scopes or with unscoped ones", async () => {
    const { rt } = memoryRuntime();
    const scopes = ["partner-a", "partner-b", "dataset-c"];
    for (const id of scopes) await putScope(rt, ctx, scope(id));
    const tags = new Set<string>();
    const record = { email: "same@example.com" };
    for (let i = 0; i < 10_000; i++) {
      for (const s of [undefined, ...scopes]) {
        const p = (await rt.scoped.pseudonymizeUserData(`subject-${i}`, record, ["email"], { scope: s })).data
          .email;
        tags.add(p.slice(p.lastIndexOf(".") + 1));
      }
    }
    // Every (subject, scope) pair gave its own tag: 10,000 subjects x (3 scopes + unscoped).
    expect(tags.size).toBe(40_000);
  }, 180_000);

  it("when a scope rotates, then only that scope's pseudonyms change, and the old ones still verify while retained", async () => {
    const { rt, clock } = memoryRuntime();
    await putScope(rt, ctx, scope("a"));
    await putScope(rt, ctx, scope("b"));
    const make = async (s?: string) =>
      (await rt.scoped.pseudonymizeUserData("u1", { email: "x@y.z" }, ["email"], { scope: s })).data.email;
    const before = { a: await make("a"), b: await make("b"), plain: await make() };
    const rotated = await rotateScope(rt, ctx, { scope_id: "a", reason: "partner leak" });
    expect(rotated.scope.version).toBe(2);
    const after = { a: await make("a"), b: await make("b"), plain: await make() };
    expect(after.a).not.toBe(before.a);
    expect(after.a).toMatch(/^ps1\.su\.a\.2\.1\.1\./);
    expect(after.b).toBe(before.b);
    expect(after.plain).toBe(before.plain);
    const context = { kind: "user" as const, userId: "u1", field: "email", scope: "a" };
    expect(await rt.scoped.verifyPseudonym("x@y.z", before.a, context)).toBe(true);
    expect(await rt.scoped.verifyPseudonym("x@y.z", after.a, context)).toBe(true);
    clock.advance(31 * DAY);
    rt.scopeCache.invalidate("a");
    expect(await rt.scoped.verifyPseudonym("x@y.z", before.a, context)).toBe(false);
  });

  it("when a pseudonym is verified, then the scope in the context must be the one it names", async () => {
    const { rt } = memoryRuntime();
    await putScope(rt, ctx, scope("a"));
    await putScope(rt, ctx, scope("b"));
    const user = { kind: "user" as const, userId: "u1", field: "email" };
    const a = (await rt.scoped.pseudonymizeUserData("u1", { email: "x@y.z" }, ["email"], { scope: "a" })).data
      .email;
    const plain = (await rt.scoped.pseudonymizeUserData("u1", { email: "x@y.z" }, ["email"])).data.email;
    expect(await rt.scoped.verifyPseudonym("x@y.z", a, { ...user, scope: "a" })).toBe(true);
    expect(await rt.scoped.verifyPseudonym("x@y.z", a, { ...user, scope: "b" })).toBe(false);
    expect(await rt.scoped.verifyPseudonym("x@y.z", a, user)).toBe(false);
    expect(await rt.scoped.verifyPseudonym("other", a, { ...user, scope: "a" })).toBe(false);
    expect(await rt.scoped.verifyPseudonym("x@y.z", plain, user)).toBe(true);
    expect(await rt.scoped.verifyPseudonym("x@y.z", plain, { ...user, scope: "a" })).toBe(false);
    // Forged scope version, salt version or pepper version: false, never an error.
    expect(
      await rt.scoped.verifyPseudonym("x@y.z", a.replace(".a.1.1.1.", ".a.9.1.1."), { ...user, scope: "a" }),
    ).toBe(false);
    expect(
      await rt.scoped.verifyPseudonym("x@y.z", a.replace(".a.1.1.1.", ".a.1.9.1."), { ...user, scope: "a" }),
    ).toBe(false);
    expect(
      await rt.scoped.verifyPseudonym("x@y.z", a.replace(".a.1.1.1.", ".a.1.1.9."), { ...user, scope: "a" }),
    ).toBe(false);
  });

  it("when a user rotates or is erased, then every scope's pseudonyms change, and after erase none verifies", async () => {
    const { rt } = memoryRuntime();
    for (const id of ["a", "b", "c"]) await putScope(rt, ctx, scope(id));
    const all = async () =>
      Promise.all(
        ["a", "b", "c"].map(async (s) => {
          const user = (
            await rt.scoped.pseudonymizeUserData("u1", { email: "x@y.z" }, ["email"], { scope: s })
          ).data.email;
          const event = (
            await rt.scoped.pseudonymizeAnalyticsData(
              { event_type: "click", user_id: "u1", ip: "1.2.3.4" },
              ["user_id", "ip"],
              {
                scope: s,
              },
            )
          ).data;
          return { s, user, event };
        }),
      );
    const first = await all();
    await rotateSalt(rt, ctx, "user", "u1", {});
    const rotated = await all();
    for (let i = 0; i < 3; i++) expect(rotated[i]!.user).not.toBe(first[i]!.user);
    await eraseUser(rt, ctx, "u1", "erasure");
    for (const { s, user, event } of [...first, ...rotated]) {
      expect(
        await rt.scoped.verifyPseudonym("x@y.z", user, {
          kind: "user",
          userId: "u1",
          field: "email",
          scope: s,
        }),
      ).toBe(false);
      for (const [field, value] of [
        ["user_id", "u1"],
        ["ip", "1.2.3.4"],
      ] as const) {
        const context = { kind: "global" as const, eventType: "click", field, userId: "u1", scope: s };
        expect(await rt.scoped.verifyPseudonym(value, event[field] as string, context)).toBe(false);
      }
    }
    const fresh = await all();
    for (let i = 0; i < 3; i++) {
      expect([first[i]!.user, rotated[i]!.user]).not.toContain(fresh[i]!.user);
      expect([first[i]!.event.user_id, rotated[i]!.event.user_id]).not.toContain(fresh[i]!.event.user_id);
    }
  });

  it("when a scope is unknown or malformed, then not-found or invalid-argument, and no salt is created", async () => {
    const { rt } = memoryRuntime();
    await expect(
      rt.scoped.pseudonymizeUserData("u9", { e: "x" }, ["e"], { scope: "nope" }),
    ).rejects.toMatchObject({
      code: "not-found",
    });
    await expect(
      rt.scoped.pseudonymizeUserData("u9", { e: "x" }, ["e"], { scope: "No.Pe" }),
    ).rejects.toMatchObject({
      code: "invalid-argument",
    });
    expect(await rt.salts.record("user", "u9")).toBeNull();
  });

  it("when a consumer asks, then the grant decides: listed passes, others are permission-denied, unknown scope not-found", async () => {
    const { rt } = memoryRuntime();
    await putScope(rt, ctx, scope("a"));
    expect((await rt.scoped.authorizeScope("a", "bq@demo.iam.gserviceaccount.com")).scope_id).toBe("a");
    expect((await rt.scoped.authorizeScope("a", "uid-consumer")).version).toBe(1);
    await expect(rt.scoped.authorizeScope("a", "intruder")).rejects.toMatchObject({
      code: "permission-denied",
    });
    await expect(rt.scoped.authorizeScope("zz", "uid-consumer")).rejects.toMatchObject({ code: "not-found" });
    // A grant removed in this instance is honoured at once (the cache is invalidated by the put).
    await putScope(rt, ctx, scope("a", { consumers: [] }));
    await expect(rt.scoped.authorizeScope("a", "uid-consumer")).rejects.toMatchObject({
      code: "permission-denied",
    });
  });

  it("when scopes come due, then the scope rotation job rotates each once, and a rerun rotates nothing", async () => {
    const { rt, clock } = memoryRuntime();
    await putScope(rt, ctx, scope("weekly", { rotation_days: 7 }));
    await putScope(rt, ctx, scope("monthly", { rotation_days: 30 }));
    clock.advance(8 * DAY);
    const run = await startScopeRotation(rt, ctx);
    expect(run).toMatchObject({ due: 1, rotated: 1, failed: 0, mode: "inline" });
    expect((await rt.scopes.scope("weekly"))!.version).toBe(2);
    expect((await rt.scopes.scope("monthly"))!.version).toBe(1);
    expect(await startScopeRotation(rt, ctx)).toMatchObject({ due: 0, rotated: 0 });
    const entries = (await rt.audit.listAudit({ limit: 10, targetId: "weekly", operation: "rotate_scope" }))
      .items;
    expect(entries).toHaveLength(1);
    expect(entries[0]!.rotation_id).toMatch(/^job_/);
  });

  it("when the integrity sweep runs, then it starts the scope rotation job for due scopes, and none when none is due", async () => {
    const { rt, clock } = memoryRuntime();
    await putScope(rt, ctx, scope("weekly", { rotation_days: 7 }));
    const sweep = { correlationId: "sweep", actor: { uid: "scheduler", via: "scheduler" as const } };
    expect((await runSweep(rt, sweep)).scope_job).toBeUndefined();
    clock.advance(8 * DAY);
    const report = await runSweep(rt, sweep);
    expect(report.scope_job).toMatchObject({ due: 1, rotated: 1, failed: 0 });
    expect((await rt.scopes.scope("weekly"))!.version).toBe(2);
    const summary = (await rt.audit.listAudit({ limit: 5, operation: "sweep" })).items[0]!;
    expect(summary.details).toMatchObject({ scopes_rotated: 1 });
  });
});
