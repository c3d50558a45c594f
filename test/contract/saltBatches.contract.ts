import { beforeEach, describe, expect, it } from "vitest";
import { REQUEST_TTL_MS, type RequestStore } from "../../functions/ports/requestStore";
import { AUDIT_ONCE_TTL_MS, type AuditContext } from "../../functions/ports/saltStore";
import type { AuditDraft } from "../../functions/domain/audit";
import type { BackendHarness } from "./saltBackend.contract";

/** The batch path of a BigQuery batch on one backend: salts, answers kept by request id, once-audit entries. */
export type BatchHarness = BackendHarness & { requests: RequestStore };

const audit: AuditContext = {
  actor: { uid: "analyst@example.com", via: "bigquery" },
  operation: "pseudonymize_batch",
  correlation_id: "corr-batch",
};

const draft = (caller: string): AuditDraft => ({
  ...audit,
  target: { kind: "system", id: "bigquery" },
  result: "success",
  details: { caller, invoker: "bq@p.iam.gserviceaccount.com", mode: "user", scope: null },
});

const hex = (b: Buffer) => b.toString("hex");

export function batchContract(name: string, makeHarness: () => Promise<BatchHarness>): void {
  describe(`SaltBackend contract, batches: ${name}`, () => {
    let h: BatchHarness;

    beforeEach(async () => {
      h = await makeHarness();
      await h.reset();
    });

    it("when many ids are read at once, then present ones come back decrypted, in order, and absent ones as null", async () => {
      const a = (await h.backend.getOrCreate("user", "a")).loaded;
      const c = (await h.backend.getOrCreate("user", "c/.x")).loaded;
      const got = await h.backend.getMany("user", ["c/.x", "b", "a", "a"]);
      expect(got.map((g) => (g ? hex(g.salt) : null))).toEqual([hex(c.salt), null, hex(a.salt), hex(a.salt)]);
      expect(got[0]!.shred && hex(got[0]!.shred)).toBe(c.shred && hex(c.shred));
      expect(await h.backend.getMany("global", [])).toEqual([]);
    });

    it("when many salts are loaded with creation, then the absent are created (version 1, each its own), the present read, a repeated id created once", async () => {
      const old = (await h.backend.getOrCreate("user", "old")).loaded;
      const ids = ["old", "n1", "n2", "n1", "é"];
      const got = await h.backend.getOrCreateMany("user", ids);
      expect(got.map((g) => g.created)).toEqual([false, true, true, false, true]);
      expect(hex(got[0]!.loaded.salt)).toBe(hex(old.salt));
      expect(hex(got[1]!.loaded.salt)).toBe(hex(got[3]!.loaded.salt));
      expect(new Set(got.map((g) => hex(g.loaded.salt))).size).toBe(4);
      for (const g of got) expect(g.loaded.record.version).toBe(1);
      // What was created is what storage holds.
      for (const [n, id] of ids.entries())
        expect(hex((await h.backend.get("user", id))!.salt)).toBe(hex(got[n]!.loaded.salt));
      expect(await h.backend.count("user")).toBe(4);
      // Without an audit context (the library's first use), no entry is written, as with getOrCreate.
      expect((await h.audit.listAudit({ limit: 10 })).items).toHaveLength(0);
    });

    it("when more salts are created than one commit holds, then every one is created, and audited when asked", async () => {
      const ids = Array.from({ length: 600 }, (_, i) => `bulk-${i}`);
      const got = await h.backend.getOrCreateMany("user", ids, audit);
      expect(got.every((g) => g.created)).toBe(true);
      expect(await h.backend.count("user")).toBe(600);
      const entries = await h.audit.listAudit({ limit: 500, operation: "pseudonymize_batch" });
      expect(entries.items).toHaveLength(500);
      expect(entries.nextCursor).not.toBeNull();
      expect(entries.items[0]).toMatchObject({ actor: audit.actor, result: "success" });
    });

    it("when batches and single loads race to create overlapping salts, then each id ends with one salt that all of them got", async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `race-${i}`);
      const results = await Promise.all([
        h.backend.getOrCreateMany("user", ids),
        h.backend.getOrCreateMany("user", [...ids].reverse()),
        h.backend.getOrCreateMany("user", ids.slice(10, 30)),
        ...ids.slice(0, 5).map((id) => h.backend.getOrCreate("user", id).then((r) => [r])),
      ]);
      for (const id of ids) {
        const seen = results.flatMap((r, n) => {
          const list =
            n === 1 ? [...ids].reverse() : n === 2 ? ids.slice(10, 30) : n > 2 ? [ids[n - 3]!] : ids;
          const at = list.indexOf(id);
          return at >= 0 ? [r[at]!] : [];
        });
        expect(new Set(seen.map((s) => hex(s.loaded.salt))).size, id).toBe(1);
        expect(seen.filter((s) => s.created).length, id).toBe(1);
        expect(hex((await h.backend.get("user", id))!.salt)).toBe(hex(seen[0]!.loaded.salt));
      }
      expect(await h.backend.count("user")).toBe(40);
    });

    it("when the encryption key is missing, then batched creation fails as a precondition and creates nothing", async () => {
      h.state.keys.currentVersion = null;
      await expect(h.backend.getOrCreateMany("user", ["k1", "k2"])).rejects.toMatchObject({
        code: "failed-precondition",
      });
      h.state.keys.currentVersion = 1;
      expect(await h.backend.count("user")).toBe(0);
    });

    it("when an answer is kept under a key, then the first is kept: a second keep gets it back, until it expires", async () => {
      const first = await h.requests.keep("bq-key-1", "f1", ["ps1.a", null]);
      expect(first).toEqual({ fingerprint: "f1", answer: ["ps1.a", null], first: true });
      const again = await h.requests.keep("bq-key-1", "f2", ["ps1.b", "x"]);
      expect(again).toEqual({ fingerprint: "f1", answer: ["ps1.a", null], first: false });
      h.state.clock.advance(REQUEST_TTL_MS + 1000);
      const later = await h.requests.keep("bq-key-1", "f3", ["ps1.c"]);
      expect(later).toEqual({ fingerprint: "f3", answer: ["ps1.c"], first: true });
    });

    it("when duplicates keep answers at the same time, then exactly one is first and all get its answer", async () => {
      const kept = await Promise.all(
        Array.from({ length: 8 }, (_, i) => h.requests.keep("bq-key-race", `f${i}`, [`answer-${i}`])),
      );
      expect(kept.filter((k) => k.first)).toHaveLength(1);
      const winner = kept.find((k) => k.first)!;
      for (const k of kept) expect(k.answer).toEqual(winner.answer);
    });

    it("when an entry is appended once per key, then one entry is written however often or concurrently it is asked, until the marker expires", async () => {
      const first = await h.audit.appendAuditOnce(draft("job-1"), "once-1");
      expect(first).toMatchObject({ operation: "pseudonymize_batch", details: { caller: "job-1" } });
      expect(await h.audit.appendAuditOnce(draft("job-1"), "once-1")).toBeNull();
      const racing = await Promise.all(
        Array.from({ length: 6 }, () => h.audit.appendAuditOnce(draft("job-2"), "once-2")),
      );
      expect(racing.filter((e) => e !== null)).toHaveLength(1);
      const log = async () => (await h.audit.listAudit({ limit: 50, operation: "pseudonymize_batch" })).items;
      expect(await log()).toHaveLength(2);
      h.state.clock.advance(AUDIT_ONCE_TTL_MS + 1000);
      expect(await h.audit.appendAuditOnce(draft("job-1"), "once-1")).not.toBeNull();
      expect(await log()).toHaveLength(3);
      // The entries are links of the chained trail like any other.
      for (const e of await log()) expect(e.integrity?.mac).toEqual(expect.any(String));
    });
  });
}
