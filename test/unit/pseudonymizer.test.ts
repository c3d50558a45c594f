import { createHmac, randomBytes } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { MemorySaltStore } from "../../functions/adapters/memory/memorySaltStore";
import {
  deriveFieldKey,
  FieldKey,
  formatPseudonym,
  parsePseudonym,
  pseudonymTag,
} from "../../functions/domain/pseudonym";
import { Pseudonymizer } from "../../functions/engine/pseudonymizer";
import { SaltCache } from "../../functions/engine/saltCache";
import type { Pepper, PepperSource } from "../../functions/ports/secrets";
import { failedPrecondition } from "../../functions/domain/errors";
import { DAY, makeDeps, type TestState } from "../support/testDeps";

/** A pepper source with versions held in memory. */
class FixedPeppers implements PepperSource {
  description = "fixed";
  name = "PSEUDONYM_PEPPER";
  constructor(
    public peppers: Map<number, Buffer>,
    public currentVersion: number,
  ) {}
  peek(): Pepper | null {
    const bytes = this.peppers.get(this.currentVersion);
    return bytes ? { version: this.currentVersion, bytes } : null;
  }
  async current(): Promise<Pepper> {
    return this.version(this.currentVersion);
  }
  async version(v: number): Promise<Pepper> {
    const bytes = this.peppers.get(v);
    if (!bytes) throw failedPrecondition(`PSEUDONYM_PEPPER version ${v} does not exist`);
    return { version: v, bytes };
  }
}

const PEPPER = Buffer.alloc(32, 0x70); // "pppp..."
const SALT = Buffer.alloc(32, 0x73); // "ssss..."

describe("pseudonym format: test vectors", () => {
  // Pinned outputs: if any of these change, every stored pseudonym silently stops matching.
  it("when the inputs are fixed, then the user pseudonym is exactly the pinned string", () => {
    const key = deriveFieldKey(PEPPER, "user", "", "email", SALT);
    expect(formatPseudonym("user", 3, 2, pseudonymTag(key, "alice@example.com"))).toBe(
      "ps1.u.3.2.dygTNJaUYpYtzULyswMwlI816V_rFi4U_uFe4fBbc-Y",
    );
  });

  it("when the inputs are fixed, then the global pseudonym is exactly the pinned string", () => {
    const key = deriveFieldKey(PEPPER, "global", "page_view", "user_id", SALT);
    expect(formatPseudonym("global", 1, 1, pseudonymTag(key, "u-123"))).toBe(
      "ps1.g.1.1.ki_Qnx6YmmEtVJrNV21bndAgcwH-7wxideVc59ohjYc",
    );
  });

  it("when computed independently from the written construction, then it agrees", () => {
    // LP: the length in bytes, 4 bytes big-endian (docs/CRYPTO.md); docs/pseudonym-vectors.json has the rest.
    const lp = (b: Buffer) => {
      const n = Buffer.alloc(4);
      n.writeUInt32BE(b.length);
      return Buffer.concat([n, b]);
    };
    const fieldKey = createHmac("sha256", PEPPER)
      .update(Buffer.concat(["ps1", "u", "", "email"].map((s) => lp(Buffer.from(s)))))
      .update(lp(SALT))
      .digest();
    const tag = createHmac("sha256", fieldKey).update("s").update("alice@example.com").digest();
    expect(
      pseudonymTag(deriveFieldKey(PEPPER, "user", "", "email", SALT), "alice@example.com").equals(tag),
    ).toBe(true);
  });

  it("when tags come from the precomputed pads, then they equal createHmac over random keys and values", () => {
    // Short values take the two-hash path, long ones (over 1024 UTF-16 units) createHmac; both must agree.
    const pick = (n: number) => Math.floor(Math.random() * n);
    const text = (len: number) =>
      Array.from({ length: len }, () => ["a", "é", "€", "😀", "\u0000", "z"][pick(6)]).join("");
    for (let i = 0; i < 400; i++) {
      const bytes = randomBytes(32);
      const key = new FieldKey(bytes);
      const value = [text(pick(40)), text(1000 + pick(100)), pick(1e9) / 7, i % 2 === 0, ""][i % 5]!;
      const expected = createHmac("sha256", bytes)
        .update(`${typeof value === "string" ? "s" : typeof value === "number" ? "n" : "b"}${String(value)}`)
        .digest();
      expect(key.tag(value).equals(expected)).toBe(true);
      expect(key.tagBase64url(value)).toBe(expected.toString("base64url"));
    }
  });

  it("when values differ only in type, then their pseudonyms differ", () => {
    const key = deriveFieldKey(PEPPER, "user", "", "f", SALT);
    const tags = [1, "1", true, "true"].map((v) => pseudonymTag(key, v).toString("hex"));
    expect(new Set(tags).size).toBe(4);
  });

  it("when a string is not a ps1 pseudonym, then parsing names the problem", () => {
    for (const bad of [
      "",
      "ps1.u.1.1.short",
      "ps2.u.1.1." + "A".repeat(43),
      "ps1.x.1.1." + "A".repeat(43),
      "ps1.u.0.1." + "A".repeat(43),
    ]) {
      expect(() => parsePseudonym(bad)).toThrow(/pseudonym/);
    }
    expect(parsePseudonym("ps1.g.12.3." + "A".repeat(43))).toMatchObject({
      kind: "global",
      saltVersion: 12,
      pepperVersion: 3,
    });
  });
});

describe("Pseudonymizer", () => {
  let state: TestState;
  let backend: MemorySaltStore;
  let cache: SaltCache;
  let peppers: FixedPeppers;
  let p: Pseudonymizer;
  let reads: number;

  beforeEach(() => {
    const made = makeDeps();
    state = made.state;
    backend = new MemorySaltStore(made.deps);
    reads = 0;
    const counting = new Proxy(backend, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (["get", "getOrCreate", "getVersion"].includes(String(prop))) reads++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    cache = new SaltCache(counting, { ttlMs: 60_000, clock: () => state.clock.now().getTime() });
    peppers = new FixedPeppers(new Map([[1, randomBytes(32)]]), 1);
    p = new Pseudonymizer(cache, peppers);
  });

  it("when a record is pseudonymized, then listed fields become pseudonyms and the rest pass through", async () => {
    const record = {
      email: "a@example.com",
      age: 42,
      vip: true,
      note: null,
      country: "DE",
      nested: { x: 1 },
    };
    const out = await p.pseudonymizeUserData("alice", record, ["email", "age", "vip", "note", "missing"]);
    expect(out.saltVersion).toBe(1);
    expect(out.pepperVersion).toBe(1);
    expect(out.data.email).toMatch(/^ps1\.u\.1\.1\.[A-Za-z0-9_-]{43}$/);
    expect(out.data.age).toMatch(/^ps1\.u\.1\.1\./);
    expect(out.data.vip).toMatch(/^ps1\.u\.1\.1\./);
    expect(out.data.note).toBeNull();
    expect(out.data).not.toHaveProperty("missing");
    expect(out.data.country).toBe("DE");
    expect(out.data.nested).toEqual({ x: 1 });
    expect(record.email).toBe("a@example.com"); // the input is not modified
  });

  it("when a listed field holds an object, array or non-finite number, then invalid-argument names it", async () => {
    for (const bad of [{ a: 1 }, [1], Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(p.pseudonymizeUserData("alice", { f: bad }, ["f"])).rejects.toMatchObject({
        code: "invalid-argument",
        details: { issues: [{ path: "data.f", message: expect.any(String) }] },
      });
    }
  });

  it("when the same value appears in different places, then the pseudonyms are unrelated", async () => {
    const a = (await p.pseudonymizeUserData("alice", { x: "v", y: "v" }, ["x", "y"])).data;
    const b = (await p.pseudonymizeUserData("bob", { x: "v" }, ["x"])).data;
    const e1 = (await p.pseudonymizeAnalyticsData({ event_type: "click", user_id: "v" })).data;
    const e2 = (await p.pseudonymizeAnalyticsData({ event_type: "view", user_id: "v" })).data;
    const all = [a.x, a.y, b.x, e1.user_id, e2.user_id];
    expect(new Set(all).size).toBe(all.length);
    // ...and stable where they should be linkable: same user, field and salt version.
    expect((await p.pseudonymizeUserData("alice", { x: "v" }, ["x"])).data.x).toBe(a.x);
    expect((await p.pseudonymizeAnalyticsData({ event_type: "click", user_id: "v" })).data.user_id).toBe(
      e1.user_id,
    );
  });

  it("when analytics events are pseudonymized, then default identifying fields change and event_type stays", async () => {
    const out = (
      await p.pseudonymizeAnalyticsData({
        event_type: "signup",
        user_id: "u1",
        email: "e@x.io",
        plan: "pro",
        ts: 5,
      })
    ).data;
    expect(out.event_type).toBe("signup");
    expect(out.user_id).toMatch(/^ps1\.g\.1\.1\./);
    expect(out.email).toMatch(/^ps1\.g\.1\.1\./);
    expect(out.plan).toBe("pro");
    expect(out.ts).toBe(5);
    await expect(p.pseudonymizeAnalyticsData({ event_type: "Bad Type", user_id: "u" })).rejects.toMatchObject(
      {
        code: "invalid-argument",
      },
    );
    await expect(
      p.pseudonymizeAnalyticsData({ event_type: "x", user_id: "u" }, ["event_type"]),
    ).rejects.toMatchObject({
      code: "invalid-argument",
    });
  });

  it("when a batch has many records per user, then storage is read once per distinct salt", async () => {
    const users = Array.from({ length: 50 }, (_, i) => `user-${i}`);
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        p.pseudonymizeUserData(users[i % 50]!, { email: `e${i}` }, ["email"]),
      ),
    );
    expect(reads).toBe(50);
    expect(cache.stats.reads).toBe(50);
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        p.pseudonymizeAnalyticsData({ event_type: `ev_${i % 7}`, user_id: `u${i}` }),
      ),
    );
    // 7 event types, and each event's subject (300 users) for its shred secret: once per distinct salt.
    expect(reads).toBe(50 + 7 + 300);
  });

  it("when the salt rotates and the pepper moves on, then older pseudonyms still verify while retained", async () => {
    const before = (await p.pseudonymizeUserData("alice", { email: "a@x.io" }, ["email"])).data.email;
    const ctx = { kind: "user" as const, userId: "alice", field: "email" };
    expect(await p.verifyPseudonym("a@x.io", before, ctx)).toBe(true);
    expect(await p.verifyPseudonym("b@x.io", before, ctx)).toBe(false);
    expect(await p.verifyPseudonym("a@x.io", before, { ...ctx, field: "phone" })).toBe(false);
    expect(await p.verifyPseudonym("a@x.io", before, { ...ctx, userId: "bob" })).toBe(false);
    expect(await p.verifyPseudonym("a@x.io", "garbage", ctx)).toBe(false);

    await backend.rotate("user", "alice", {
      rotationId: "r1",
      audit: { actor: { uid: "t", via: "cli" }, operation: "rotate_user", correlation_id: "c" },
    });
    cache.invalidate("user", "alice");
    peppers.peppers.set(2, randomBytes(32));
    peppers.currentVersion = 2;
    const after = (await p.pseudonymizeUserData("alice", { email: "a@x.io" }, ["email"])).data.email;
    expect(after).toMatch(/^ps1\.u\.2\.2\./);
    expect(after).not.toBe(before);
    expect(await p.verifyPseudonym("a@x.io", after, ctx)).toBe(true);
    expect(await p.verifyPseudonym("a@x.io", before, ctx)).toBe(true);

    state.clock.advance(31 * DAY);
    cache.clear();
    expect(await p.verifyPseudonym("a@x.io", before, ctx)).toBe(false);
    expect(await p.verifyPseudonym("a@x.io", after, ctx)).toBe(true);
  });

  it("when a user is erased and recreated, then old pseudonyms no longer verify", async () => {
    const before = (await p.pseudonymizeUserData("zoe", { email: "z@x.io" }, ["email"])).data.email;
    await backend.erase("user", "zoe", "r", {
      actor: { uid: "t", via: "cli" },
      operation: "erase",
      correlation_id: "c",
    });
    cache.invalidate("user", "zoe");
    const after = (await p.pseudonymizeUserData("zoe", { email: "z@x.io" }, ["email"])).data.email;
    expect(after).not.toBe(before);
    expect(await p.verifyPseudonym("z@x.io", before, { kind: "user", userId: "zoe", field: "email" })).toBe(
      false,
    );
  });

  it("when a pseudonym is spelled other than canonically, then it does not verify", async () => {
    const ps = (await p.pseudonymizeUserData("alice", { email: "a@x.io" }, ["email"])).data.email;
    const ctx = { kind: "user" as const, userId: "alice", field: "email" };
    expect(await p.verifyPseudonym("a@x.io", ps, ctx)).toBe(true);
    // The last base64url character carries 4 bits and 2 spare ones: its 3 siblings decode to the same tag.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(ps.at(-1)!);
    const siblings = [1, 2, 3].map((d) => ps.slice(0, -1) + alphabet[(last & ~3) | ((last + d) & 3)]!);
    for (const other of siblings) {
      expect(
        Buffer.from(other.split(".")[4]!, "base64url").equals(Buffer.from(ps.split(".")[4]!, "base64url")),
      ).toBe(true);
      expect(await p.verifyPseudonym("a@x.io", other, ctx)).toBe(false);
    }
  });

  it("when a pseudonym names a pepper below PEPPER_MIN_VERSION, then it no longer verifies", async () => {
    const ps = (await p.pseudonymizeUserData("alice", { email: "a@x.io" }, ["email"])).data.email;
    const ctx = { kind: "user" as const, userId: "alice", field: "email" };
    const strict = new Pseudonymizer(cache, peppers, { minPepperVersion: 2 });
    expect(await p.verifyPseudonym("a@x.io", ps, ctx)).toBe(true);
    expect(await strict.verifyPseudonym("a@x.io", ps, ctx)).toBe(false);
    // An unknown pepper version is simply false.
    expect(await p.verifyPseudonym("a@x.io", ps.replace(/^ps1\.u\.(\d+)\.1\./, "ps1.u.$1.9."), ctx)).toBe(
      false,
    );
  });

  it("when the pepper cannot be had, then nothing is pseudonymized", async () => {
    const failing: PepperSource = {
      description: "failing",
      name: "PSEUDONYM_PEPPER",
      peek: () => null,
      current: () =>
        Promise.reject(
          Object.assign(new Error("PSEUDONYM_PEPPER is missing or empty"), { code: "failed-precondition" }),
        ),
      version: () => Promise.reject(new Error("no")),
    };
    const q = new Pseudonymizer(cache, failing);
    await expect(q.pseudonymizeUserData("alice", { email: "a" }, ["email"])).rejects.toMatchObject({
      code: "failed-precondition",
    });
    expect(await backend.count("user")).toBe(0);
  });
});
