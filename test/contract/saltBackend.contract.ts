import { createHash, randomBytes } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import type { AuditContext, AuditStore, ListedSalt, SaltStore } from "../../functions/ports/saltStore";
import { assertSaltId, type SaltKind } from "../../functions/domain/ids";
import { DAY, type TestState } from "../support/testDeps";

/** What a contract run needs from an adapter: the backend and raw access to its storage. */
export interface BackendHarness {
  backend: SaltStore;
  audit: AuditStore;
  state: TestState;
  /** Flips one byte of the stored ciphertext of the current salt. */
  tamper(kind: SaltKind, id: string): Promise<void>;
  /** Copies the stored ciphertext of `from` into the document of `to`, as a database attacker could. */
  copyCiphertext(kind: SaltKind, from: string, to: string): Promise<void>;
  /**
   * Keeps a copy of a salt as stored (document and retained versions), as a database attacker could:
   * `putBack` writes it all back; `putCiphertextInto` writes only its current ciphertext into the salt stored now.
   */
  keepCopy(
    kind: SaltKind,
    id: string,
  ): Promise<{ putBack(): Promise<void>; putCiphertextInto(): Promise<void> }>;
  reset(): Promise<void>;
}

const audit: AuditContext = {
  actor: { uid: "admin-1", via: "cli" },
  operation: "rotate_user",
  correlation_id: "corr-test",
};

const sha16 = (b: Buffer) => createHash("sha256").update(b).digest("hex").slice(0, 16);
let seq = 0;
const rid = () => `rot-${++seq}-${randomBytes(4).toString("hex")}`;

export function backendContract(name: string, makeHarness: () => Promise<BackendHarness>): void {
  describe(`SaltBackend contract: ${name}`, () => {
    let h: BackendHarness;
    let b: SaltStore;

    beforeEach(async () => {
      h = await makeHarness();
      await h.reset();
      b = h.backend;
    });

    describe("creation", () => {
      it("when a salt is first requested, then version 1 is created with baseline metadata", async () => {
        const now = h.state.clock.now();
        const { loaded, created } = await b.getOrCreate("user", "alice", audit);
        expect(created).toBe(true);
        expect(loaded.salt).toHaveLength(32);
        expect(loaded.record).toMatchObject({
          kind: "user",
          id: "alice",
          version: 1,
          rotation_count: 0,
          previous_salt_hash: null,
          salt_hash: sha16(loaded.salt),
        });
        expect(loaded.record.created_at.getTime()).toBe(now.getTime());
        expect(loaded.record.last_rotated.getTime()).toBe(now.getTime());
        expect(loaded.record.next_rotation.getTime()).toBe(now.getTime() + 90 * DAY);

        const again = await b.getOrCreate("user", "alice");
        expect(again.created).toBe(false);
        expect(again.loaded.salt.equals(loaded.salt)).toBe(true);
        expect((await b.get("user", "alice"))?.salt.equals(loaded.salt)).toBe(true);
      });

      it("when global and user salts share an id, then they are different salts with their own interval", async () => {
        const u = await b.getOrCreate("user", "login");
        const g = await b.getOrCreate("global", "login");
        expect(u.loaded.salt.equals(g.loaded.salt)).toBe(false);
        expect(g.loaded.record.next_rotation.getTime() - g.loaded.record.last_rotated.getTime()).toBe(
          30 * DAY,
        );
        expect(await b.count("user")).toBe(1);
        expect(await b.count("global")).toBe(1);
      });

      it("when rotating a missing salt without force, then not-found and nothing is written", async () => {
        await expect(b.rotate("user", "ghost", { rotationId: rid(), audit })).rejects.toMatchObject({
          code: "not-found",
        });
        expect(await b.get("user", "ghost")).toBeNull();
        expect((await h.audit.listAudit({ limit: 10 })).items).toHaveLength(0);
      });

      it("when rotating a missing salt with force, then version 1 is created and audited", async () => {
        const rotationId = rid();
        const out = await b.rotate("global", "page_view", { force: true, rotationId, audit });
        expect(out.status).toBe("created");
        if (out.status !== "created") throw new Error("unreachable");
        expect(out.record.version).toBe(1);
        const log = await h.audit.listAudit({ limit: 10 });
        expect(log.items).toHaveLength(1);
        expect(log.items[0]).toMatchObject({
          rotation_id: rotationId,
          target: { kind: "global", id: "page_view" },
          result: "success",
          correlation_id: "corr-test",
          actor: { uid: "admin-1", via: "cli" },
        });
      });
    });

    describe("rotation", () => {
      it("when a salt is rotated, then every metadata field moves and the old version is retained", async () => {
        const first = (await b.getOrCreate("user", "bob")).loaded;
        h.state.clock.advance(5 * DAY);
        const at = h.state.clock.now();
        const rotationId = rid();
        const out = await b.rotate("user", "bob", { rotationId, audit });
        expect(out.status).toBe("rotated");
        const now = await b.get("user", "bob");
        expect(now).not.toBeNull();
        const r = now!.record;
        expect(r.version).toBe(2);
        expect(r.rotation_count).toBe(1);
        expect(r.created_at.getTime()).toBe(first.record.created_at.getTime());
        expect(r.last_rotated.getTime()).toBe(at.getTime());
        expect(r.next_rotation.getTime()).toBe(at.getTime() + 90 * DAY);
        expect(r.previous_salt_hash).toBe(sha16(first.salt));
        expect(r.salt_hash).toBe(sha16(now!.salt));
        expect(now!.salt.equals(first.salt)).toBe(false);

        const history = await b.history("user", "bob");
        expect(history).toEqual([
          {
            version: 1,
            created_at: first.record.created_at,
            retired_at: at,
            salt_hash_prefix: sha16(first.salt),
          },
        ]);
        expect((await b.getVersion("user", "bob", 1))?.equals(first.salt)).toBe(true);
        expect((await b.getVersion("user", "bob", 2))?.equals(now!.salt)).toBe(true);
        expect(await b.getVersion("user", "bob", 3)).toBeNull();

        const entries = (await h.audit.listAudit({ limit: 10, targetId: "bob" })).items;
        expect(entries.map((e) => e.rotation_id)).toContain(rotationId);
      });

      it("when a guard does not hold, then the rotation is skipped and nothing changes", async () => {
        await b.getOrCreate("user", "carol");
        expect(await b.rotate("user", "carol", { rotationId: rid(), audit, ifVersion: 7 })).toMatchObject({
          status: "skipped",
          reason: "version-changed",
        });
        expect(await b.rotate("user", "carol", { rotationId: rid(), audit, onlyIfDue: true })).toMatchObject({
          status: "skipped",
          reason: "not-due",
        });
        expect(await b.rotate("user", "nobody", { rotationId: rid(), audit, onlyIfDue: true })).toMatchObject(
          {
            status: "skipped",
            reason: "missing",
          },
        );
        expect((await b.get("user", "carol"))?.record.version).toBe(1);
        h.state.clock.advance(91 * DAY);
        expect(
          await b.rotate("user", "carol", { rotationId: rid(), audit, onlyIfDue: true, ifVersion: 1 }),
        ).toMatchObject({ status: "rotated" });
      });

      it("when 20 rotations of one salt run at once, then all 20 land and none is lost", async () => {
        const first = (await b.getOrCreate("user", "hot")).loaded;
        const ids = Array.from({ length: 20 }, rid);
        const results = await Promise.all(
          ids.map((rotationId) => b.rotate("user", "hot", { rotationId, audit })),
        );
        expect(results.every((r) => r.status === "rotated")).toBe(true);
        const now = await b.get("user", "hot");
        expect(now?.record.version).toBe(21);
        expect(now?.record.rotation_count).toBe(20);
        const history = await b.history("user", "hot");
        expect(history.map((v) => v.version)).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
        expect(history.at(-1)?.salt_hash_prefix).toBe(sha16(first.salt));
        // The chain is unbroken: each retired version's hash is the next version's previous_salt_hash.
        const versions = new Set(
          (await h.audit.listAudit({ limit: 100, targetId: "hot" })).items.map((e) => e.rotation_id),
        );
        expect(ids.every((id) => versions.has(id))).toBe(true);
      });

      it("when rotations are batched, then each keeps its guard and audit entry, and a failing batch applies nothing", async () => {
        for (const id of ["m1", "m2", "m3"]) await b.getOrCreate("user", id);
        h.state.clock.advance(91 * DAY);
        const req = (ifVersion: number) => ({ rotationId: rid(), audit, ifVersion, onlyIfDue: true });
        const out = await b.rotateMany([
          { kind: "user", id: "m1", request: req(1) },
          { kind: "user", id: "m2", request: req(5) },
          { kind: "user", id: "ghost", request: req(1) },
        ]);
        expect(out.map((o) => o.status)).toEqual(["rotated", "skipped", "skipped"]);
        expect(out[1]).toMatchObject({ reason: "version-changed" });
        expect(out[2]).toMatchObject({ reason: "missing" });
        expect((await b.get("user", "m1"))?.record.version).toBe(2);
        expect((await h.audit.listAudit({ limit: 10, targetId: "m1" })).items).toHaveLength(1);
        expect((await h.audit.listAudit({ limit: 10, targetId: "m2" })).items).toHaveLength(0);

        await expect(
          b.rotateMany([
            { kind: "user", id: "m3", request: req(1) },
            { kind: "user", id: "nobody", request: { rotationId: rid(), audit } },
          ]),
        ).rejects.toMatchObject({ code: "not-found" });
        expect((await b.get("user", "m3"))?.record.version).toBe(1);
        expect(await b.history("user", "m3")).toEqual([]);
        expect((await h.audit.listAudit({ limit: 10, targetId: "m3" })).items).toHaveLength(0);
      });

      it("when due salts are streamed for rotation, then they come earliest due first, at most the limit, and stopping early ends the read", async () => {
        for (const id of ["s1", "s2", "s3", "s4", "s5"]) {
          await b.getOrCreate("user", id);
          h.state.clock.advance(DAY);
        }
        h.state.clock.advance(91 * DAY);
        const read = async (limit: number, stopAfter = Infinity) => {
          const ids: string[] = [];
          for await (const listed of b.dueForRotation("user", limit)) {
            ids.push(listed.record.id);
            if (ids.length >= stopAfter) break;
          }
          return ids;
        };
        expect(await read(3)).toEqual(["s1", "s2", "s3"]);
        expect(await read(1000, 2)).toEqual(["s1", "s2"]);
        expect(await read(1000)).toEqual(["s1", "s2", "s3", "s4", "s5"]);
      });

      it("when listed salts are rotated as listed, then a salt changed since the listing is decided again", async () => {
        for (const id of ["l1", "l2", "l3"]) await b.getOrCreate("user", id);
        h.state.clock.advance(91 * DAY);
        const page = { items: [] as ListedSalt[] };
        for await (const listed of b.dueForRotation("user", 10)) page.items.push(listed);
        expect(page.items.map((l) => l.record.id).sort()).toEqual(["l1", "l2", "l3"]);
        const request = (v: number) => ({ rotationId: rid(), audit, ifVersion: v, onlyIfDue: true });
        // l2 is rotated by someone else after the listing.
        await b.rotate("user", "l2", { rotationId: rid(), audit });
        const out = await b.rotateListed(
          page.items.map((listed) => ({ listed, request: request(listed.record.version) })),
        );
        const byId = new Map(page.items.map((l, i) => [l.record.id, out[i]!]));
        expect(byId.get("l1")?.status).toBe("rotated");
        expect(byId.get("l3")?.status).toBe("rotated");
        expect(byId.get("l2")).toMatchObject({ status: "skipped" });
        expect((await b.get("user", "l1"))?.record.version).toBe(2);
        expect((await b.get("user", "l2"))?.record.version).toBe(2);
        expect((await b.history("user", "l1")).map((v) => v.version)).toEqual([1]);
        expect((await b.getVersion("user", "l1", 1))?.length).toBe(32);
        expect((await h.audit.listAudit({ limit: 10, targetId: "l1" })).items).toHaveLength(1);
        expect((await h.audit.listAudit({ limit: 10, targetId: "l2" })).items).toHaveLength(1);
      });

      it("when creators race on a missing salt, then exactly one salt exists", async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, () => b.getOrCreate("global", "signup")),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const salts = new Set(results.map((r) => r.loaded.salt.toString("hex")));
        expect(salts.size).toBe(1);
        expect(await b.count("global")).toBe(1);
      });
    });

    describe("due salts", () => {
      it("when salts are due, then they are counted and paged in order across page boundaries", async () => {
        // 25 users created a day apart; after 100 days those created on days 0..10 are due (90-day interval).
        for (let i = 0; i < 25; i++) {
          await b.getOrCreate("user", `u${String(i).padStart(2, "0")}`);
          h.state.clock.advance(DAY);
        }
        h.state.clock.advance(100 * DAY - 25 * DAY);
        expect(await b.count("user")).toBe(25);
        expect(await b.countDue("user")).toBe(11);
        expect(await b.countDue("global")).toBe(0);

        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page = await b.listDue("user", { limit: 4, cursor });
          expect(page.items.length).toBeLessThanOrEqual(4);
          seen.push(...page.items.map((r) => r.id));
          cursor = page.nextCursor;
          pages++;
        } while (cursor);
        expect(pages).toBe(3);
        expect(seen).toEqual(Array.from({ length: 11 }, (_, i) => `u${String(i).padStart(2, "0")}`));
      });

      it("when the interval shortens, then due follows once the stored due date is repaired (as the sweep does)", async () => {
        const { loaded } = await b.getOrCreate("global", "click");
        h.state.clock.advance(10 * DAY);
        expect(await b.countDue("global")).toBe(0);
        h.state.policy = { userDays: 90, globalDays: 7, jitter: 0 };
        const next = new Date(loaded.record.last_rotated.getTime() + 7 * DAY);
        expect(await b.repairNextRotation("global", "click", 1, next)).toBe(true);
        expect(await b.countDue("global")).toBe(1);
        expect(await b.countDueBetween("global", new Date(0), new Date(next.getTime() + 1))).toBe(1);
      });

      it("when jitter is set, then due dates spread over the window and never pass the interval", async () => {
        h.state.policy = { userDays: 90, globalDays: 30, jitter: 0.2 };
        const now = h.state.clock.now().getTime();
        const days = new Set<number>();
        for (let i = 0; i < 40; i++) {
          const { loaded } = await b.getOrCreate("user", `herd-${i}`);
          const early = now + 90 * DAY - loaded.record.next_rotation.getTime();
          expect(early).toBeGreaterThanOrEqual(0);
          expect(early).toBeLessThanOrEqual(0.2 * 90 * DAY);
          days.add(Math.floor(loaded.record.next_rotation.getTime() / DAY));
        }
        expect(days.size).toBeGreaterThan(10);
      });

      it("when a cursor was not issued by the service, then invalid-argument", async () => {
        await expect(b.listDue("user", { limit: 5, cursor: "not-a-cursor" })).rejects.toMatchObject({
          code: "invalid-argument",
        });
      });
    });

    describe("history retention", () => {
      it("when retention ends, then the retired version can no longer be read and is purged", async () => {
        await b.getOrCreate("user", "dana");
        const v1 = await b.getVersion("user", "dana", 1);
        await b.rotate("user", "dana", { rotationId: rid(), audit });
        h.state.clock.advance(29 * DAY);
        expect((await b.getVersion("user", "dana", 1))?.equals(v1!)).toBe(true);
        expect(await b.history("user", "dana")).toHaveLength(1);
        h.state.clock.advance(1 * DAY);
        expect(await b.getVersion("user", "dana", 1)).toBeNull();
        expect(await b.history("user", "dana")).toHaveLength(0);
        expect(await b.purgeExpiredHistory(100)).toBe(1);
        expect(await b.purgeExpiredHistory(100)).toBe(0);
        expect((await b.get("user", "dana"))?.record.version).toBe(2);
      });
    });

    describe("erase", () => {
      it("when a user is erased, then every version is destroyed and the erasure is audited", async () => {
        await b.getOrCreate("user", "erin");
        await b.rotate("user", "erin", { rotationId: rid(), audit });
        await b.rotate("user", "erin", { rotationId: rid(), audit });
        const rotationId = rid();
        const out = await b.erase("user", "erin", rotationId, { ...audit, operation: "erase" });
        expect(out).toEqual({ status: "erased", erased: true, versionsDestroyed: 3 });
        expect(await b.get("user", "erin")).toBeNull();
        for (const v of [1, 2, 3]) expect(await b.getVersion("user", "erin", v)).toBeNull();
        expect(await b.history("user", "erin")).toEqual([]);
        const entries = (await h.audit.listAudit({ limit: 10, operation: "erase" })).items;
        expect(entries).toHaveLength(1);
        expect(entries[0]).toMatchObject({ rotation_id: rotationId, details: { versions_destroyed: 3 } });
        // A later request starts an unrelated salt.
        expect((await b.getOrCreate("user", "erin")).created).toBe(true);
      });

      it("when a copy of the salt taken before the erasure is put back, then it and its retained versions are refused", async () => {
        const before = (await b.getOrCreate("user", "ivy", audit)).loaded;
        await b.rotate("user", "ivy", { rotationId: rid(), audit });
        const copy = await h.keepCopy("user", "ivy");
        await b.erase("user", "ivy", rid(), { ...audit, operation: "erase" });
        await copy.putBack();
        await expect(b.get("user", "ivy")).rejects.toMatchObject({
          code: "internal",
          message: /erased incarnation/,
        });
        await expect(b.getVersion("user", "ivy", 1)).rejects.toMatchObject({ message: /erased incarnation/ });
        await expect(b.getOrCreate("user", "ivy")).rejects.toMatchObject({ message: /erased incarnation/ });
        expect(before.salt).toHaveLength(32);
      });

      it("when an erased salt's ciphertext is copied into the salt created after it, then it does not decrypt", async () => {
        await b.getOrCreate("user", "jo", audit);
        const copy = await h.keepCopy("user", "jo");
        await b.erase("user", "jo", rid(), { ...audit, operation: "erase" });
        // The user comes back: a new incarnation, at version 1 again.
        const again = (await b.getOrCreate("user", "jo", audit)).loaded;
        expect(again.record.version).toBe(1);
        await copy.putCiphertextInto();
        await expect(b.get("user", "jo")).rejects.toMatchObject({
          code: "internal",
          message: /authentication failed/,
        });
      });

      it("when nothing is stored for the user, then erase reports nothing erased", async () => {
        expect(await b.erase("user", "nobody", rid(), { ...audit, operation: "erase" })).toEqual({
          status: "erased",
          erased: false,
          versionsDestroyed: 0,
        });
      });
    });

    describe("hostile ids", () => {
      const hostile = [
        "/",
        ".",
        "..",
        "a/b",
        "../../salts_global/x",
        "__name__",
        "__.*__",
        "x".repeat(128),
        "😀".repeat(128),
        "user@example.com",
        " spaced ",
        "#[]*?",
      ];
      it("when user ids are path-like, reserved or maximal, then each is its own salt", async () => {
        const salts = new Map<string, string>();
        for (const id of hostile) {
          expect(assertSaltId("user", id)).toBe(id);
          const { loaded } = await b.getOrCreate("user", id);
          expect(loaded.record.id).toBe(id);
          salts.set(id, loaded.salt.toString("hex"));
        }
        expect(new Set(salts.values()).size).toBe(hostile.length);
        for (const id of hostile) expect((await b.get("user", id))?.salt.toString("hex")).toBe(salts.get(id));
        expect(await b.count("user")).toBe(hostile.length);
        expect(await b.count("global")).toBe(0);
      });

      it("when an id is empty, too long or has control characters, then the error names the field", () => {
        for (const bad of ["", "x".repeat(129), "a\nb", "a\u0000b", "\u007f", "a\u0085b"]) {
          expect(() => assertSaltId("user", bad)).toThrow(/user_id/);
        }
        for (const bad of ["", "Page_View", "a/b", "x".repeat(65), "é"]) {
          expect(() => assertSaltId("global", bad)).toThrow(/event_type/);
        }
      });
    });

    describe("encryption at rest", () => {
      it("when the ciphertext is tampered with, then reading fails instead of returning a wrong salt", async () => {
        await b.getOrCreate("user", "frank");
        await h.tamper("user", "frank");
        await expect(b.get("user", "frank")).rejects.toThrow(/could not be decrypted/);
      });

      it("when a salt is copied into another document, then it does not decrypt there", async () => {
        await b.getOrCreate("user", "gina");
        await b.getOrCreate("user", "hank");
        await h.copyCiphertext("user", "gina", "hank");
        await expect(b.get("user", "hank")).rejects.toThrow(/could not be decrypted/);
        expect(await b.get("user", "gina")).not.toBeNull();
      });

      it("when a new key version becomes current, then new salts use it and old ones still decrypt", async () => {
        const before = (await b.getOrCreate("user", "ivy")).loaded.salt;
        const v2 = h.state.keys.add();
        await b.getOrCreate("user", "ivo");
        expect((await b.get("user", "ivy"))?.salt.equals(before)).toBe(true);
        expect(await b.keyVersionsInUse("user", [1, v2])).toEqual([1, 2]);
      });

      it("when a salt's key version is more than 30 versions old, then it is still counted and listed for rewrap", async () => {
        await b.getOrCreate("user", "old-key");
        for (let i = 0; i < 40; i++) h.state.keys.add();
        await b.getOrCreate("user", "new-key");
        const current = h.state.keys.currentVersion!;
        expect(current).toBe(41);
        expect(await b.countNeedingRewrap("user", current)).toBe(1);
        const page = await b.listNeedingRewrap("user", current, { limit: 10 });
        expect(page.items.map((r) => r.id)).toEqual(["old-key"]);
      });

      it("when the key version a salt names is disabled, then reading it is failed-precondition naming that version", async () => {
        const before = (await b.getOrCreate("user", "ivy")).loaded.salt;
        h.state.keys.add();
        h.state.keys.setEnabled(1, false);
        await expect(b.get("user", "ivy")).rejects.toMatchObject({
          code: "failed-precondition",
          message: expect.stringMatching(/version 1\b/),
        });
        h.state.keys.setEnabled(1, true);
        expect((await b.get("user", "ivy"))?.salt.equals(before)).toBe(true);
      });

      it("when a version's key bytes are not the ones that encrypted it, then reading fails and says so", async () => {
        await b.getOrCreate("user", "ivy");
        h.state.keys.versions.get(1)!.bytes = randomBytes(32);
        await expect(b.get("user", "ivy")).rejects.toThrow(/not the key that encrypted it/);
      });

      it("when the key is missing, then operations stop with failed-precondition and write nothing", async () => {
        await b.getOrCreate("user", "jack");
        h.state.keys.currentVersion = null;
        h.state.keys.setEnabled(1, false);
        await expect(b.get("user", "jack")).rejects.toMatchObject({ code: "failed-precondition" });
        await expect(b.getOrCreate("user", "kim")).rejects.toMatchObject({ code: "failed-precondition" });
        await expect(b.rotate("user", "jack", { rotationId: rid(), audit })).rejects.toMatchObject({
          code: "failed-precondition",
        });
        expect(await b.count("user")).toBe(1);
      });
    });

    describe("audit log", () => {
      it("when entries are appended, then they page newest first and filter by target and operation", async () => {
        for (let i = 0; i < 7; i++) {
          await h.audit.appendAudit({
            actor: { uid: "a", via: "callable" },
            operation: i % 2 ? "rotate_user" : "status",
            target: { kind: "user", id: i < 3 ? "t1" : "t2" },
            result: "success",
            correlation_id: `c${i}`,
          });
          h.state.clock.advance(1000);
        }
        const p1 = await h.audit.listAudit({ limit: 3 });
        expect(p1.items.map((e) => e.correlation_id)).toEqual(["c6", "c5", "c4"]);
        const p2 = await h.audit.listAudit({ limit: 3, cursor: p1.nextCursor! });
        expect(p2.items.map((e) => e.correlation_id)).toEqual(["c3", "c2", "c1"]);
        const p3 = await h.audit.listAudit({ limit: 3, cursor: p2.nextCursor! });
        expect(p3.items.map((e) => e.correlation_id)).toEqual(["c0"]);
        expect(p3.nextCursor).toBeNull();
        const t1 = await h.audit.listAudit({ limit: 10, targetId: "t1", operation: "rotate_user" });
        expect(t1.items.map((e) => e.correlation_id)).toEqual(["c1"]);
      });
    });
  });
}
