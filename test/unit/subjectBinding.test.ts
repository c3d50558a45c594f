import { beforeEach, describe, expect, it } from "vitest";
import { MemorySaltStore } from "../../functions/adapters/memory/memorySaltStore";
import { deriveFieldKey, formatPseudonym, pseudonymTag, subjectKey } from "../../functions/domain/pseudonym";
import { Pseudonymizer } from "../../functions/engine/pseudonymizer";
import { SaltCache } from "../../functions/engine/saltCache";
import { runtimeSecrets } from "../support/runtimes";
import { makeDeps } from "../support/testDeps";

/** docs/CRYPTO.md, "Subject binding": which events bind, to whom, and which are refused. */
describe("subject binding of analytics events", () => {
  let store: MemorySaltStore;
  let cache: SaltCache;
  let p: Pseudonymizer;
  const pepper = runtimeSecrets({ key: "0".repeat(64) }).pepper;

  beforeEach(() => {
    store = new MemorySaltStore(makeDeps().deps);
    cache = new SaltCache(store, { ttlMs: 60_000 });
    p = new Pseudonymizer(cache, pepper);
  });

  /** The pseudonym the document's construction gives, from the salts the service holds. */
  async function expected(field: string, value: string | number | boolean, subject: string | null) {
    const global = cache.peek("global", "page_view")!;
    const pep = await pepper.current();
    const fieldKey = deriveFieldKey(pep.bytes, "global", "page_view", field, global.salt);
    const key = subject === null ? fieldKey : subjectKey(fieldKey, cache.peek("user", subject)!.shred!);
    return formatPseudonym("global", global.record.version, pep.version, pseudonymTag(key, value));
  }

  it("when user_id is absent, undefined or null, then every field is unbound", async () => {
    for (const userId of [undefined, null, "absent"]) {
      const event: Record<string, unknown> = { event_type: "page_view", email: "a@x.io" };
      if (userId !== "absent") event.user_id = userId;
      const out = (
        await p.pseudonymizeAnalyticsData(event as { event_type: string; [k: string]: unknown }, [
          "email",
          "user_id",
        ])
      ).data;
      expect(out.email).toBe(await expected("email", "a@x.io", null));
      expect(out.user_id).toBe(userId === "absent" ? undefined : userId);
    }
    expect(await store.count("user")).toBe(0);
  });

  it("when user_id is a valid id, then every field, user_id included, is bound to that user's shred secret", async () => {
    const out = (
      await p.pseudonymizeAnalyticsData({ event_type: "page_view", user_id: "Zoë-1", email: "a@x.io" })
    ).data;
    expect(out.email).toBe(await expected("email", "a@x.io", "Zoë-1"));
    expect(out.user_id).toBe(await expected("user_id", "Zoë-1", "Zoë-1"));
    expect(out.email).not.toBe(await expected("email", "a@x.io", null));
  });

  it('when user_id is a finite number, then it names the user whose id is its text (42 -> "42", 1e21 -> "1e+21")', async () => {
    for (const [n, id] of [
      [42, "42"],
      [1e21, "1e+21"],
      [-0, "0"],
      [0.5, "0.5"],
    ] as const) {
      const asNumber = (
        await p.pseudonymizeAnalyticsData({ event_type: "page_view", user_id: n, email: "e" })
      ).data;
      const asString = (
        await p.pseudonymizeAnalyticsData({ event_type: "page_view", user_id: id, email: "e" })
      ).data;
      expect(asNumber.email).toBe(asString.email);
      expect(asNumber.email).toBe(await expected("email", "e", id));
      // The user_id field's own pseudonym keeps its type: 42 and "42" differ.
      expect(asNumber.user_id).toBe(await expected("user_id", n, id));
      expect(asNumber.user_id).not.toBe(asString.user_id);
      // Verifying needs the subject as a string.
      const ctx = { kind: "global" as const, eventType: "page_view", field: "email", userId: id };
      expect(await p.verifyPseudonym("e", asNumber.email as string, ctx)).toBe(true);
    }
  });

  it("when user_id is present but cannot name a subject, then invalid-argument names user_id and nothing is created", async () => {
    const bad: unknown[] = [
      "",
      "x".repeat(129),
      "tab\there",
      "line\nbreak",
      "lone\ud800",
      true,
      false,
      { id: "u1" },
      ["u1"],
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ];
    for (const userId of bad) {
      // Whether or not user_id is among the fields, the event's subject is wrong: refused, not silently unbound.
      for (const fields of [["email"], ["email", "user_id"]]) {
        await expect(
          p.pseudonymizeAnalyticsData({ event_type: "page_view", user_id: userId, email: "e" }, fields),
        ).rejects.toMatchObject({
          code: "invalid-argument",
          details: {
            issues: [
              { path: "user_id", message: expect.stringMatching(/null when the event names no subject/) },
            ],
          },
        });
      }
    }
    expect(await store.count("user")).toBe(0);
    expect(await store.count("global")).toBe(0);
  });

  it("when a user's record is pseudonymized with the user's salt, then nothing binds (the salt is the user's)", async () => {
    const out = (await p.pseudonymizeUserData("u1", { email: "a@x.io" }, ["email"])).data;
    const user = cache.peek("user", "u1")!;
    const pep = await pepper.current();
    const key = deriveFieldKey(pep.bytes, "user", "", "email", user.salt);
    expect(out.email).toBe(
      formatPseudonym("user", user.record.version, pep.version, pseudonymTag(key, "a@x.io")),
    );
  });
});
