import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../functions/usecases/deps";
import { eraseUser } from "../../functions/usecases/erase";
import { rotateSalt } from "../../functions/usecases/rotateSalt";
import { clearFirestore, firestoreHost } from "../support/firestore";
import { firestoreRuntime, firestoreVia } from "../support/runtimes";
import { TcpProxy } from "../support/tcpProxy";

const KEY = randomBytes(32).toString("base64");
const ctx = { correlationId: "privacy", actor: { uid: "admin", via: "callable" as const } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("erasure reaches every pseudonym, and caches honour it (Firestore emulator)", () => {
  beforeAll(async () => {
    firestoreHost();
    await clearFirestore();
  });

  it("when a user is erased, then no field derived from their identifiers comes out the same, under user or global salts", async () => {
    const rt = firestoreRuntime({ key: KEY });
    const x = `user-x-${randomBytes(3).toString("hex")}`;
    const event = {
      event_type: "signup",
      user_id: x,
      email: "x@example.com",
      ip_address: "10.0.0.1",
      plan: "pro",
    };
    const record = { email: "x@example.com", phone: "+33 1 23 45 67 89" };
    const before = (await rt.pseudonymizer.pseudonymizeAnalyticsData(event)).data;
    const beforeUser = (await rt.pseudonymizer.pseudonymizeUserData(x, record, ["email", "phone"])).data;
    // Another user's identifiers under the same global salt are untouched by X's erasure.
    const other = { ...event, user_id: "user-y" };
    const otherBefore = (await rt.pseudonymizer.pseudonymizeAnalyticsData(other)).data;

    const contexts = {
      user_id: { kind: "global" as const, eventType: "signup", field: "user_id", userId: x },
      email: { kind: "global" as const, eventType: "signup", field: "email", userId: x },
      ip_address: { kind: "global" as const, eventType: "signup", field: "ip_address", userId: x },
    };
    for (const [field, context] of Object.entries(contexts)) {
      expect(
        await rt.pseudonymizer.verifyPseudonym(
          event[field as keyof typeof contexts],
          before[field as keyof typeof before] as string,
          context,
        ),
      ).toBe(true);
    }

    await eraseUser(rt, ctx, x, "GDPR request");
    const after = (await rt.pseudonymizer.pseudonymizeAnalyticsData(event)).data;
    const afterUser = (await rt.pseudonymizer.pseudonymizeUserData(x, record, ["email", "phone"])).data;
    for (const field of ["user_id", "email", "ip_address"] as const)
      expect(after[field]).not.toBe(before[field]);
    for (const field of ["email", "phone"] as const) expect(afterUser[field]).not.toBe(beforeUser[field]);
    expect(after.plan).toBe("pro");
    for (const [field, context] of Object.entries(contexts)) {
      expect(
        await rt.pseudonymizer.verifyPseudonym(
          event[field as keyof typeof contexts],
          before[field as keyof typeof before] as string,
          context,
        ),
      ).toBe(false);
    }
    for (const field of ["email", "phone"] as const) {
      expect(
        await rt.pseudonymizer.verifyPseudonym(record[field], beforeUser[field], {
          kind: "user",
          userId: x,
          field,
        }),
      ).toBe(false);
    }
    expect((await rt.pseudonymizer.pseudonymizeAnalyticsData(other)).data).toEqual(otherBefore);
  });

  describe("with two instances over one Firestore", () => {
    const TTL_SECONDS = 1;
    const two = (): [Services, Services] => [
      firestoreRuntime({ key: KEY, config: { cacheTtlSeconds: TTL_SECONDS } }),
      firestoreRuntime({ key: KEY, config: { cacheTtlSeconds: TTL_SECONDS } }),
    ];

    it("when one instance erases or rotates a salt, then the other stops serving and verifying the old one within the TTL", async () => {
      const [a, b] = two();
      const id = `twin-${randomBytes(3).toString("hex")}`;
      const first = (await a.pseudonymizer.pseudonymizeUserData(id, { email: "t@x.io" }, ["email"])).data
        .email;
      const context = { kind: "user" as const, userId: id, field: "email" };
      expect(await a.pseudonymizer.verifyPseudonym("t@x.io", first, context)).toBe(true);
      await rotateSalt(b, ctx, "user", id, {});
      // Within the TTL, instance A may still use what it loaded; after it, never.
      await sleep(TTL_SECONDS * 1000 + 100);
      const rotated = (await a.pseudonymizer.pseudonymizeUserData(id, { email: "t@x.io" }, ["email"])).data
        .email;
      expect(rotated).not.toBe(first);
      expect(rotated).toMatch(/^ps1\.u\.2\./);

      await eraseUser(b, ctx, id, "erase from the other instance");
      await sleep(TTL_SECONDS * 1000 + 100);
      expect(await a.pseudonymizer.verifyPseudonym("t@x.io", first, context)).toBe(false);
      expect(await a.pseudonymizer.verifyPseudonym("t@x.io", rotated, context)).toBe(false);
    });
  });

  describe("when storage is unreachable", () => {
    const proxy = new TcpProxy(process.env.FIRESTORE_EMULATOR_HOST ?? "127.0.0.1:8080");
    beforeAll(() => proxy.start());
    afterAll(() => proxy.stop());

    it("then a loaded salt serves only until SALT_STALE_MAX_SECONDS after it was read, then unavailable", async () => {
      const rt = firestoreRuntime({
        key: KEY,
        firestore: firestoreVia(proxy.host),
        config: { cacheTtlSeconds: 0, staleMaxSeconds: 2, firestoreTimeoutMs: 500 },
      });
      const id = `stale-${randomBytes(3).toString("hex")}`;
      const fresh = (await rt.pseudonymizer.pseudonymizeUserData(id, { e: "v" }, ["e"])).data.e;
      proxy.cut();
      try {
        expect((await rt.pseudonymizer.pseudonymizeUserData(id, { e: "v" }, ["e"])).data.e).toBe(fresh);
        expect(rt.cache.stats.stale).toBeGreaterThanOrEqual(1);
        await sleep(2200);
        await expect(rt.pseudonymizer.pseudonymizeUserData(id, { e: "v" }, ["e"])).rejects.toMatchObject({
          code: "unavailable",
        });
      } finally {
        proxy.restore();
      }
    });
  });
});
