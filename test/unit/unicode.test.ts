import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemorySaltStore } from "../../functions/adapters/memory/memorySaltStore";
import { assertSaltId, encodeDocId } from "../../functions/domain/ids";
import { Pseudonymizer } from "../../functions/engine/pseudonymizer";
import { SaltCache } from "../../functions/engine/saltCache";
import { runtimeSecrets } from "../support/runtimes";
import { makeDeps } from "../support/testDeps";

const invalid = (path: string) => ({
  code: "invalid-argument",
  details: { issues: [expect.objectContaining({ path })] },
});

describe("well-formed Unicode in the library", () => {
  const { deps } = makeDeps();
  const cache = new SaltCache(new MemorySaltStore(deps), { ttlMs: 60_000 });
  const p = new Pseudonymizer(cache, runtimeSecrets({ key: randomBytes(32).toString("hex") }).pepper);

  for (const s of ["\ud800", "\udfff"]) {
    it(`when a lone surrogate (${s === "\ud800" ? "high" : "low"}) is in any string the library takes, then invalid-argument names it`, async () => {
      await expect(p.pseudonymizeUserData(`u${s}`, { e: "v" }, ["e"])).rejects.toMatchObject(
        invalid("user_id"),
      );
      await expect(p.pseudonymizeUserData("u", { e: `v${s}` }, ["e"])).rejects.toMatchObject(
        invalid("data.e"),
      );
      await expect(p.pseudonymizeUserData("u", { [`e${s}`]: "v" }, [`e${s}`])).rejects.toMatchObject(
        invalid("fields"),
      );
      await expect(p.pseudonymizeValues("u", `f${s}`, ["v"])).rejects.toMatchObject(invalid("field"));
      await expect(p.pseudonymizeValues("u", "f", [`v${s}`])).rejects.toMatchObject(invalid("values.0"));
      await expect(p.pseudonymizeAnalyticsData({ event_type: `e${s}`, user_id: "u" })).rejects.toMatchObject(
        invalid("event_type"),
      );
      await expect(p.pseudonymizeAnalyticsData({ event_type: "e", user_id: `u${s}` })).rejects.toMatchObject(
        invalid("user_id"),
      );
      await expect(
        p.pseudonymizeAnalyticsData({ event_type: "e", email: `a${s}` }, ["email"]),
      ).rejects.toMatchObject(invalid("email"));
      const ok = (await p.pseudonymizeUserData("u", { e: "v" }, ["e"])).data.e;
      await expect(
        p.verifyPseudonym(`v${s}`, ok, { kind: "user", userId: "u", field: "e" }),
      ).rejects.toMatchObject(invalid("value"));
      await expect(
        p.verifyPseudonym("v", ok, { kind: "user", userId: "u", field: `e${s}` }),
      ).rejects.toMatchObject(invalid("field"));
    });
  }

  it("when two ids differ only where one has a lone surrogate, then the ill-formed one is refused before it can share a document", () => {
    // UTF-8 encoding maps every lone surrogate to U+FFFD, so these two would share a document id.
    expect(encodeDocId("user\ud800")).toBe(encodeDocId("user\ufffd"));
    expect(assertSaltId("user", "user\ufffd")).toBe("user\ufffd");
    expect(() => assertSaltId("user", "user\ud800")).toThrow(/user_id: must be well-formed Unicode/);
    expect(() => assertSaltId("user", "\udfffuser")).toThrow(/user_id/);
  });
});
