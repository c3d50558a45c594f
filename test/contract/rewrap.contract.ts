import { randomBytes } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import type { AuditContext, RewrapItem, SaltStore } from "../../functions/ports/saltStore";
import { DAY } from "../support/testDeps";
import type { BackendHarness } from "./saltBackend.contract";

// Rewrap on both backends when chunks race or are retried: every salt ends under the current key
// version, its bytes unchanged, with exactly one rewrap audit entry (and so one last_rewrap_id).

const audit = (job: string): AuditContext => ({
  actor: { uid: "job-task", via: "task" },
  operation: "rewrap",
  correlation_id: `corr-${job}`,
  reason: `rewrap job ${job}`,
});

const rotation: AuditContext = {
  actor: { uid: "admin-1", via: "cli" },
  operation: "rotate_user",
  correlation_id: "corr-rotate",
};

const items = (ids: string[], job: string): RewrapItem[] =>
  ids.map((id) => ({ kind: "user", id, rewrapId: `${job}-${id}`, audit: audit(job) }));

export function rewrapContract(name: string, makeHarness: () => Promise<BackendHarness>): void {
  describe(`rewrap contract: ${name}`, () => {
    let h: BackendHarness;
    let b: SaltStore;
    const ids = Array.from({ length: 8 }, (_, i) => `rw-${i}`);
    let before: Map<string, { salt: Buffer; previous: Buffer }>;

    /** Salts with one retained version each, all under key version 1; then version 2 becomes current. */
    beforeEach(async () => {
      h = await makeHarness();
      await h.reset();
      b = h.backend;
      before = new Map();
      for (const id of ids) {
        const first = (await b.getOrCreate("user", id)).loaded.salt;
        h.state.clock.advance(DAY);
        await b.rotate("user", id, {
          rotationId: `rot-${id}-${randomBytes(3).toString("hex")}`,
          audit: rotation,
        });
        before.set(id, { salt: (await b.get("user", id))!.salt, previous: first });
      }
      h.state.keys.add();
    });

    /** Every salt under version 2 with its bytes (current and retained) unchanged, and its rewrap entries. */
    async function expectRewrappedOnce(): Promise<void> {
      expect(await b.countNeedingRewrap("user", 2)).toBe(0);
      expect(await b.keyVersionsInUse("user", [1, 2])).toEqual([2]);
      // Version 1 of the key is no longer needed to read anything.
      h.state.keys.setEnabled(1, false);
      for (const id of ids) {
        expect((await b.get("user", id))!.salt.equals(before.get(id)!.salt), id).toBe(true);
        expect((await b.getVersion("user", id, 1))!.equals(before.get(id)!.previous), id).toBe(true);
      }
      const entries = (await h.audit.listAudit({ limit: 100, operation: "rewrap" })).items;
      expect(entries.map((e) => e.target.id).sort()).toEqual([...ids].sort());
    }

    it("when two rewraps of the same salts race, then each salt is rewrapped by one of them and found current by the other", async () => {
      const [a, c] = await Promise.all([b.rewrap(items(ids, "job-a")), b.rewrap(items(ids, "job-b"))]);
      for (const [n, id] of ids.entries()) {
        expect([a[n]!.status, c[n]!.status].sort(), id).toEqual(["current", "rewrapped"]);
      }
      await expectRewrappedOnce();
    });

    it("when a chunk is retried after it committed, then it reports its salts rewrapped again and writes nothing", async () => {
      const first = await b.rewrap(items(ids, "job-a"));
      expect(first.every((o) => o.status === "rewrapped")).toBe(true);
      const again = await b.rewrap(items(ids, "job-a"));
      expect(again.map((o) => o.status)).toEqual(ids.map(() => "rewrapped"));
      // Another job finds them current.
      const other = await b.rewrap(items(ids, "job-b"));
      expect(other.map((o) => o.status)).toEqual(ids.map(() => "current"));
      await expectRewrappedOnce();
    });

    it("when a retried chunk races its first attempt, then both report every salt rewrapped and each is rewrapped once", async () => {
      const [first, retry] = await Promise.all([
        b.rewrap(items(ids, "job-a")),
        b.rewrap(items(ids, "job-a")),
      ]);
      expect(first.map((o) => o.status)).toEqual(ids.map(() => "rewrapped"));
      expect(retry.map((o) => o.status)).toEqual(ids.map(() => "rewrapped"));
      await expectRewrappedOnce();
    });

    it("when a salt is rotated while it is being rewrapped, then the rotation is kept and every ciphertext ends under the new key", async () => {
      const id = ids[0]!;
      const [, rotated] = await Promise.all([
        b.rewrap(items(ids, "job-a")),
        b.rotate("user", id, {
          rotationId: `rot-race-${randomBytes(3).toString("hex")}`,
          audit: rotation,
        }),
      ]);
      expect(rotated.status).toBe("rotated");
      const now = (await b.get("user", id))!;
      expect(now.record.version).toBe(3);
      expect(now.salt.equals(before.get(id)!.salt)).toBe(false);
      expect((await b.getVersion("user", id, 2))!.equals(before.get(id)!.salt)).toBe(true);
      expect(await b.countNeedingRewrap("user", 2)).toBe(0);
      h.state.keys.setEnabled(1, false);
      expect((await b.getVersion("user", id, 1))!.equals(before.get(id)!.previous)).toBe(true);
    });
  });
}
