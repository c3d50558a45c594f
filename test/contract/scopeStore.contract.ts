import { beforeEach, describe, expect, it } from "vitest";
import type { AuditStore, AuditContext } from "../../functions/ports/saltStore";
import type { ScopeStore } from "../../functions/ports/scopeStore";
import type { ScopeSpec } from "../../functions/domain/scope";
import { DAY, type TestState } from "../support/testDeps";

/** What a scope contract run needs from an adapter: the store, its audit trail and raw access. */
export interface ScopeHarness {
  scopes: ScopeStore;
  audit: AuditStore;
  state: TestState;
  /** Flips one byte of the stored ciphertext of the scope's current secret. */
  tamper(scopeId: string): Promise<void>;
  /** Copies the stored secret ciphertext of `from` into scope `to`, as a database writer could. */
  copySecret(from: string, to: string): Promise<void>;
  reset(): Promise<void>;
}

const audit: AuditContext = {
  actor: { uid: "admin-1", via: "cli" },
  operation: "put_scope",
  correlation_id: "c",
};
const spec = (over: Partial<ScopeSpec> = {}): ScopeSpec => ({
  scope_id: "partner-a",
  description: "Partner A",
  rotation_days: 7,
  consumers: ["bq@demo.iam.gserviceaccount.com", "uid-1"],
  ...over,
});
const rotation = (n: number, over: object = {}) => ({
  rotationId: `rot-${n}`,
  audit: { ...audit, operation: "rotate_scope" },
  ...over,
});

export function scopeStoreContract(name: string, makeHarness: () => Promise<ScopeHarness>): void {
  describe(`ScopeStore contract: ${name}`, () => {
    let h: ScopeHarness;
    let s: ScopeStore;

    beforeEach(async () => {
      h = await makeHarness();
      await h.reset();
      s = h.scopes;
    });

    it("when a scope is put, then version 1 exists with its settings, a 32-byte secret and one audit entry", async () => {
      const now = h.state.clock.now();
      const out = await s.putScope(spec(), audit);
      expect(out.status).toBe("created");
      const loaded = await s.loadScope("partner-a");
      expect(loaded!.record).toMatchObject({
        scope_id: "partner-a",
        description: "Partner A",
        rotation_days: 7,
        version: 1,
        rotation_count: 0,
        consumers: ["bq@demo.iam.gserviceaccount.com", "uid-1"],
      });
      expect(loaded!.record.next_rotation.getTime()).toBe(now.getTime() + 7 * DAY);
      expect(loaded!.secret).toHaveLength(32);
      const entries = (await h.audit.listAudit({ limit: 10, targetId: "partner-a" })).items;
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        operation: "put_scope",
        target: { kind: "scope", id: "partner-a" },
      });
      expect(entries[0]!.details).toMatchObject({
        created: true,
        consumers_added: "bq@demo.iam.gserviceaccount.com,uid-1",
      });
    });

    it("when a scope is put again, then its settings change and its version and secret stay", async () => {
      await s.putScope(spec(), audit);
      const before = await s.loadScope("partner-a");
      h.state.clock.advance(DAY);
      const out = await s.putScope(
        spec({ rotation_days: 30, consumers: ["uid-2"], description: "B" }),
        audit,
      );
      expect(out.status).toBe("updated");
      const after = await s.loadScope("partner-a");
      expect(after!.record).toMatchObject({
        version: 1,
        rotation_days: 30,
        consumers: ["uid-2"],
        description: "B",
      });
      expect(after!.secret.equals(before!.secret)).toBe(true);
      // The interval counts from the last rotation, not from the edit.
      expect(after!.record.next_rotation.getTime()).toBe(before!.record.last_rotated.getTime() + 30 * DAY);
      const entries = (await h.audit.listAudit({ limit: 10, targetId: "partner-a" })).items;
      expect(entries[0]!.details).toMatchObject({ created: false, consumers_added: "uid-2" });
      expect(String(entries[0]!.details!.consumers_removed)).toContain("uid-1");
    });

    it("when a scope rotates, then a new secret is current and the old one is kept for the retention only", async () => {
      await s.putScope(spec(), audit);
      const v1 = (await s.loadScope("partner-a"))!.secret;
      h.state.clock.advance(DAY);
      const out = await s.rotateScope("partner-a", rotation(1));
      expect(out).toMatchObject({
        status: "rotated",
        rotationId: "rot-1",
        record: { version: 2, rotation_count: 1 },
      });
      const v2 = await s.loadScope("partner-a");
      expect(v2!.secret.equals(v1)).toBe(false);
      expect((await s.scopeSecret("partner-a", 1))!.equals(v1)).toBe(true);
      expect((await s.scopeSecret("partner-a", 2))!.equals(v2!.secret)).toBe(true);
      expect((await s.scopeHistory("partner-a")).map((v) => v.version)).toEqual([1]);
      h.state.clock.advance(h.state.retentionDays * DAY + 1);
      expect(await s.scopeSecret("partner-a", 1)).toBeNull();
      expect(await s.scopeHistory("partner-a")).toEqual([]);
      const ops = (await h.audit.listAudit({ limit: 10, targetId: "partner-a" })).items.map(
        (e) => e.operation,
      );
      expect(ops).toEqual(["rotate_scope", "put_scope"]);
    });

    it("when a guarded rotation finds the scope changed or not due, then it skips; unguarded on a missing scope is not-found", async () => {
      await s.putScope(spec(), audit);
      expect(await s.rotateScope("partner-a", rotation(1, { onlyIfDue: true }))).toMatchObject({
        status: "skipped",
        reason: "not-due",
      });
      h.state.clock.advance(8 * DAY);
      expect(await s.countDueScopes()).toBe(1);
      expect(await s.rotateScope("partner-a", rotation(2, { ifVersion: 5 }))).toMatchObject({
        status: "skipped",
        reason: "version-changed",
      });
      expect(await s.rotateScope("nope", rotation(3, { onlyIfDue: true }))).toMatchObject({
        reason: "missing",
      });
      await expect(s.rotateScope("nope", rotation(4))).rejects.toMatchObject({ code: "not-found" });
      expect(await s.rotateScope("partner-a", rotation(5, { ifVersion: 1, onlyIfDue: true }))).toMatchObject({
        status: "rotated",
      });
      expect(await s.countDueScopes()).toBe(0);
    });

    it("when scopes are listed, then they come in pages, and only due ones in the due listing", async () => {
      for (const id of ["c", "a", "b", "d"])
        await s.putScope(spec({ scope_id: id, rotation_days: id === "b" ? 1 : 9 }), audit);
      const first = await s.listScopes({ limit: 3 });
      expect(first.items).toHaveLength(3);
      const second = await s.listScopes({ limit: 3, cursor: first.nextCursor });
      expect([...first.items, ...second.items].map((r) => r.scope_id).sort()).toEqual(["a", "b", "c", "d"]);
      expect(second.nextCursor).toBeNull();
      h.state.clock.advance(2 * DAY);
      const due = await s.listDueScopes({ limit: 10 });
      expect(due.items.map((r) => r.scope_id)).toEqual(["b"]);
    });

    it("when a request id is given twice, then the second put is answered from the first and changes nothing", async () => {
      const idem = {
        key: "k-1",
        fingerprint: "f-1",
        answer: (o: unknown) => ({ echoed: (o as { status: string }).status }),
      };
      await s.putScope(spec(), audit, idem);
      const again = await s.putScope(spec({ description: "changed" }), audit, idem);
      expect(again).toEqual({ status: "replayed", answer: { echoed: "created" }, sameRequest: true });
      expect((await s.scope("partner-a"))!.description).toBe("Partner A");
      expect((await h.audit.listAudit({ limit: 10, targetId: "partner-a" })).items).toHaveLength(1);
    });

    it("when the key rotates, then rewrapScopes re-encrypts every secret under it, once, and nothing else changes", async () => {
      await s.putScope(spec(), audit);
      h.state.clock.advance(DAY);
      await s.rotateScope("partner-a", rotation(1));
      const before = [await s.scopeSecret("partner-a", 1), await s.scopeSecret("partner-a", 2)];
      expect(await s.keyVersionsInUse([1, 2])).toEqual([1]);
      h.state.keys.add();
      expect(await s.rewrapScopes({ ...audit, operation: "rewrap" })).toBe(1);
      expect(await s.rewrapScopes({ ...audit, operation: "rewrap" })).toBe(0);
      expect(await s.keyVersionsInUse([1, 2])).toEqual([2]);
      h.state.keys.setEnabled(1, false);
      expect((await s.scopeSecret("partner-a", 1))!.equals(before[0]!)).toBe(true);
      expect((await s.loadScope("partner-a"))!.secret.equals(before[1]!)).toBe(true);
      expect((await s.scope("partner-a"))!.version).toBe(2);
      const entries = (await h.audit.listAudit({ limit: 10, targetId: "partner-a", operation: "rewrap" }))
        .items;
      expect(entries).toHaveLength(1);
      expect(entries[0]!.details).toMatchObject({ from_key_versions: "1", to_key_version: 2 });
    });

    it("when a database writer copies one scope's secret into another, then it does not open there", async () => {
      await s.putScope(spec(), audit);
      await s.putScope(spec({ scope_id: "partner-b" }), audit);
      await h.copySecret("partner-a", "partner-b");
      // Bound to its place (scope and version) as associated data: two scopes never share a key by copy.
      await expect(s.loadScope("partner-b")).rejects.toMatchObject({ code: "internal" });
      expect((await s.loadScope("partner-a"))!.secret).toHaveLength(32);
    });

    it("when a stored secret is tampered with, then loading it fails closed, naming no bytes", async () => {
      await s.putScope(spec(), audit);
      await h.tamper("partner-a");
      await expect(s.loadScope("partner-a")).rejects.toMatchObject({ code: "internal" });
    });
  });
}
