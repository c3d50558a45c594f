import { Timestamp } from "firebase-admin/firestore";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeDocId } from "../../functions/domain/ids";
import { adminFirestore, clearFirestore } from "../support/firestore";
import {
  adminAuth,
  call,
  createUser,
  functionsHost,
  signIn,
  type CallResult,
  type TestUser,
} from "../support/stack";
import { PROJECT_ID } from "../support/firestore";
import { DAY } from "../support/testDeps";
import { LEDGER, recordResponse } from "../support/leakLedger";
import { readFileSync, rmSync } from "node:fs";
import {
  keyIdOf,
  openSalt,
  parseEncryptionKey,
  saltAad,
  shredAad,
  type SaltPlace,
} from "../../functions/domain/encryption";
import { saltPlace } from "../../functions/domain/rotation";
import { METRICS_FLUSH_MS } from "../../functions/observability/metrics";
import { emulatorLog, localSecrets, secretForms } from "../support/stack";
import type { SaltKind } from "../../functions/domain/ids";

const READ_FUNCTIONS = ["status", "job", "audit", "auditLog"];
const ADMIN_FUNCTIONS = [
  "rotateUser",
  "rotateGlobal",
  "rotateDue",
  "erase",
  "reloadConfig",
  "pseudonymizeTest",
];
const ALL = [...READ_FUNCTIONS, ...ADMIN_FUNCTIONS];

const db = () => adminFirestore();
const uid = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;

/** next_rotation is the interval after last_rotated, brought forward by at most ROTATION_JITTER (0.1). */
function expectInterval(salt: Record<string, unknown>, days: number): void {
  const span = Date.parse(salt.next_rotation as string) - Date.parse(salt.last_rotated as string);
  expect(span).toBeLessThanOrEqual(days * DAY);
  expect(span).toBeGreaterThanOrEqual(0.9 * days * DAY);
}

/** Every response seen is kept for the leak check at the end of the run. */
async function c<T = Record<string, unknown>>(...args: Parameters<typeof call>): Promise<CallResult<T>> {
  const r = await call<T>(...args);
  recordResponse(r.raw);
  return r;
}

describe("callable API over HTTP (functions + auth + firestore emulators)", () => {
  let admin: TestUser;
  let auditor: TestUser;
  let plain: TestUser;

  beforeAll(async () => {
    // Start from an empty database: counts and due sets below must not depend on other files' leftovers.
    await clearFirestore();
    rmSync(LEDGER, { force: true });
    [admin, auditor, plain] = await Promise.all([
      createUser({ admin: true }, "admin"),
      createUser({ auditor: true }, "auditor"),
      createUser({}, "plain"),
    ]);
  });

  describe("who may call", () => {
    it("when no token is presented, then every function answers unauthenticated with a correlation id", async () => {
      for (const fn of ALL) {
        const r = await c(fn, {});
        expect(r.status, fn).toBe(401);
        expect(r.error?.status, fn).toBe("UNAUTHENTICATED");
        expect(r.error?.details?.correlation_id, fn).toEqual(expect.any(String));
      }
    });

    it("when a signed-in user has no role, then every function answers permission-denied", async () => {
      for (const fn of ALL) {
        const r = await c(fn, {}, { token: plain.token });
        expect(r.error?.status, fn).toBe("PERMISSION_DENIED");
      }
    });

    it("when an auditor calls, then reads are allowed and mutations are denied", async () => {
      expect((await c("status", {}, { token: auditor.token })).result?.storage_type).toBe("firestore");
      for (const fn of ADMIN_FUNCTIONS) {
        expect((await c(fn, {}, { token: auditor.token })).error?.status, fn).toBe("PERMISSION_DENIED");
      }
    });

    it("when an admin's tokens are revoked, then mutations are refused at once", async () => {
      const victim = await createUser({ admin: true }, "revoked");
      const id = uid("rv");
      expect(
        (await c("rotateUser", { user_id: id, force: true }, { token: victim.token })).result?.created,
      ).toBe(true);
      // Revocation is recorded in whole seconds after the token's auth_time.
      await new Promise((r) => setTimeout(r, 1100));
      await adminAuth().revokeRefreshTokens(victim.uid);
      const r = await c("rotateUser", { user_id: id }, { token: victim.token });
      expect(r.error?.status).toBe("UNAUTHENTICATED");
      const snap = await db().collection("salts_user").doc(encodeDocId(id)).get();
      expect(snap.get("version")).toBe(1);
    });

    it("when an admin account is disabled, then mutations are refused", async () => {
      const victim = await createUser({ admin: true }, "disabled");
      await adminAuth().updateUser(victim.uid, { disabled: true });
      const r = await c("rotateGlobal", { event_type: "x", force: true }, { token: victim.token });
      expect(r.error?.status).toBe("UNAUTHENTICATED");
    });
  });

  describe("validation", () => {
    const cases: [string, unknown, string[]][] = [
      ["status", { extra: 1 }, ["extra"]],
      [
        "rotateUser",
        { user_id: "", force: "yes", reason: "r".repeat(501), extra: true },
        ["user_id", "force", "reason", "extra"],
      ],
      ["rotateUser", { user_id: "x".repeat(129) }, ["user_id"]],
      ["rotateUser", { user_id: "a\u0000b" }, ["user_id"]],
      ["rotateUser", { user_id: 42, reason: "" }, ["user_id", "reason"]],
      ["rotateUser", {}, ["user_id"]],
      ["rotateGlobal", { event_type: "Page View", force: 1, reason: 7 }, ["event_type", "force", "reason"]],
      ["rotateGlobal", { event_type: "x".repeat(65) }, ["event_type"]],
      ["rotateDue", { kind: "both", limit: 0, dry_run: "no", x: 1 }, ["kind", "limit", "dry_run", "x"]],
      ["rotateDue", { limit: 1_000_001 }, ["limit"]],
      ["rotateDue", { limit: 1.5 }, ["limit"]],
      ["job", { job_id: "../etc" }, ["job_id"]],
      ["job", {}, ["job_id"]],
      ["audit", { user_id: "" }, ["user_id"]],
      [
        "auditLog",
        { limit: 501, cursor: "", target_id: "", operation: "DROP TABLE" },
        ["limit", "cursor", "target_id", "operation"],
      ],
      ["auditLog", { limit: 0 }, ["limit"]],
      ["auditLog", { cursor: "forged" }, ["cursor"]],
      ["erase", { user_id: "u" }, ["reason"]],
      ["erase", { user_id: "", reason: "" }, ["user_id", "reason"]],
      ["reloadConfig", { now: true }, ["now"]],
      [
        "pseudonymizeTest",
        { user_id: "", data: [], fields: "email", event_type: "Bad" },
        ["user_id", "data", "fields", "event_type"],
      ],
      ["pseudonymizeTest", { user_id: "u", data: { a: { nested: 1 } } }, ["data.a"]],
      ["pseudonymizeTest", { user_id: "u", data: { a: "1" }, fields: ["b"] }, ["fields.0"]],
    ];
    it.each(cases)(
      "when %s gets %j, then invalid-argument lists exactly the offending fields",
      async (fn, data, paths) => {
        const r = await c(fn, data, { token: admin.token });
        expect(r.error?.status).toBe("INVALID_ARGUMENT");
        const issues = (r.error?.details?.issues ?? []) as { path: string; message: string }[];
        expect([...new Set(issues.map((i) => i.path))].sort()).toEqual([...paths].sort());
        for (const i of issues) expect(i.message.length).toBeGreaterThan(0);
        expect(r.error?.details?.correlation_id).toEqual(expect.any(String));
      },
    );

    it("when a request is invalid, then it is audited as an error and nothing is written", async () => {
      const id = uid("inv");
      const r = await c("rotateUser", { user_id: id, force: "yes" }, { token: admin.token });
      expect(r.error?.status).toBe("INVALID_ARGUMENT");
      expect((await db().collection("salts_user").doc(encodeDocId(id)).get()).exists).toBe(false);
      const entries = await db()
        .collection("salts_audit")
        .where("correlation_id", "==", r.error!.details!.correlation_id)
        .get();
      expect(entries.size).toBe(1);
      expect(entries.docs[0]!.data()).toMatchObject({
        result: "error",
        operation: "rotate_user",
        details: { code: "invalid-argument" },
      });
    });
  });

  describe("rotation and audit", () => {
    it("when a user salt is created and rotated, then responses, stored state and audit agree", async () => {
      const id = uid("u/with.dots/..");
      const missing = await c("rotateUser", { user_id: id }, { token: admin.token });
      expect(missing.error?.status).toBe("NOT_FOUND");

      const created = await c<{ rotation_id: string; created: boolean; salt: Record<string, unknown> }>(
        "rotateUser",
        { user_id: id, force: true, reason: "onboarding" },
        { token: admin.token, headers: { "X-Correlation-Id": "corr-create-1" } },
      );
      expect(created.result).toMatchObject({
        created: true,
        correlation_id: "corr-create-1",
        salt: { kind: "user", id, version: 1, rotation_count: 0, previous_salt_hash: null, due: false },
      });
      const s1 = created.result!.salt;
      expectInterval(s1, 90);

      const rotated = await c<{ rotation_id: string; created: boolean; salt: Record<string, unknown> }>(
        "rotateUser",
        { user_id: id },
        { token: admin.token },
      );
      expect(rotated.result).toMatchObject({ created: false, salt: { version: 2, rotation_count: 1 } });
      expect(rotated.result!.salt.previous_salt_hash).toMatch(/^[0-9a-f]{16}$/);
      expect(rotated.result!.salt.created_at).toBe(s1.created_at);

      const doc = await db().collection("salts_user").doc(encodeDocId(id)).get();
      expect(doc.data()).toMatchObject({
        id,
        version: 2,
        rotation_count: 1,
        previous_salt_hash: rotated.result!.salt.previous_salt_hash,
      });
      const retired = await doc.ref.collection("salt_versions").doc("1").get();
      expect(retired.get("salt_hash_prefix")).toBe(rotated.result!.salt.previous_salt_hash);

      const audit = await c<{
        salt: Record<string, unknown>;
        history: { version: number }[];
        audit: Record<string, unknown>[];
      }>("audit", { user_id: id }, { token: auditor.token });
      expect(audit.result!.salt).toMatchObject({ version: 2 });
      expect(audit.result!.history.map((h) => h.version)).toEqual([1]);
      const rotationIds = audit.result!.audit.map((e) => e.rotation_id);
      expect(rotationIds).toEqual(
        expect.arrayContaining([created.result!.rotation_id, rotated.result!.rotation_id]),
      );
      const createEntry = audit.result!.audit.find((e) => e.rotation_id === created.result!.rotation_id)!;
      expect(createEntry).toMatchObject({
        operation: "rotate_user",
        result: "success",
        correlation_id: "corr-create-1",
        reason: "onboarding",
        actor: { uid: admin.uid, via: "callable" },
        target: { kind: "user", id },
      });
    });

    it("when a global salt is rotated, then it uses the global interval", async () => {
      const r = await c<{ salt: Record<string, string> }>(
        "rotateGlobal",
        { event_type: "page_view.e2e", force: true },
        { token: admin.token },
      );
      expect(r.result?.salt.kind).toBe("global");
      expectInterval(r.result!.salt, 30);
    });

    it("when the audit target does not exist, then not-found", async () => {
      expect((await c("audit", { user_id: uid("nobody") }, { token: auditor.token })).error?.status).toBe(
        "NOT_FOUND",
      );
    });

    it("when the audit log is paged, then entries come newest first without repeats and filters apply", async () => {
      const id = uid("log");
      for (let i = 0; i < 5; i++) await c("rotateUser", { user_id: id, force: true }, { token: admin.token });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: CallResult<{
          entries: { id: string; at: string; target: { id: string } }[];
          next_cursor: string | null;
        }> = await c(
          "auditLog",
          { limit: 2, target_id: id, operation: "rotate_user", ...(cursor ? { cursor } : {}) },
          { token: auditor.token },
        );
        expect(page.result!.entries.length).toBeLessThanOrEqual(2);
        for (const e of page.result!.entries) expect(e.target.id).toBe(id);
        seen.push(...page.result!.entries.map((e) => e.id));
        cursor = page.result!.next_cursor;
      } while (cursor);
      expect(seen).toHaveLength(5);
      expect(new Set(seen).size).toBe(5);
    });
  });

  describe("erase", () => {
    it("when a user is erased, then every version is gone and a receipt is returned", async () => {
      const id = uid("erase");
      await c("rotateUser", { user_id: id, force: true }, { token: admin.token });
      await c("rotateUser", { user_id: id }, { token: admin.token });
      const r = await c<{ erased: boolean; versions_destroyed: number; receipt: Record<string, string> }>(
        "erase",
        { user_id: id, reason: "GDPR art. 17 request #123" },
        { token: admin.token },
      );
      expect(r.result).toMatchObject({ erased: true, versions_destroyed: 2 });
      expect(r.result!.receipt.user_id_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(r.result!.receipt.rotation_id).toEqual(expect.any(String));
      const ref = db().collection("salts_user").doc(encodeDocId(id));
      expect((await ref.get()).exists).toBe(false);
      expect((await ref.collection("salt_versions").get()).size).toBe(0);
      expect((await c("audit", { user_id: id }, { token: auditor.token })).error?.status).toBe("NOT_FOUND");
    });
  });

  describe("batch rotation", () => {
    it("when salts are overdue, then a dry run only plans and a real run rotates each once", async () => {
      const ids = Array.from({ length: 6 }, () => uid("due"));
      for (const id of ids) await c("rotateUser", { user_id: id, force: true }, { token: admin.token });
      const old = Timestamp.fromMillis(Date.now() - 200 * DAY);
      for (const id of ids)
        await db()
          .collection("salts_user")
          .doc(encodeDocId(id))
          .update({ last_rotated: old, next_rotation: old });

      const dry = await c<{ job_id: string; due: { users: number }; rotated: number; dry_run: boolean }>(
        "rotateDue",
        { dry_run: true, kind: "user" },
        { token: admin.token },
      );
      expect(dry.result).toMatchObject({ dry_run: true, rotated: 0, queued: 0 });
      expect(dry.result!.due.users).toBeGreaterThanOrEqual(6);
      for (const id of ids)
        expect((await db().collection("salts_user").doc(encodeDocId(id)).get()).get("version")).toBe(1);

      const run = await c<{ job_id: string; rotated: number; failed: number; queued: number }>(
        "rotateDue",
        { kind: "user" },
        { token: admin.token },
      );
      expect(run.result!.failed).toBe(0);
      expect(run.result!.rotated).toBeGreaterThanOrEqual(6);
      for (const id of ids)
        expect((await db().collection("salts_user").doc(encodeDocId(id)).get()).get("version")).toBe(2);

      const job = await c<Record<string, unknown>>(
        "job",
        { job_id: run.result!.job_id },
        { token: auditor.token },
      );
      expect(job.result).toMatchObject({
        job_id: run.result!.job_id,
        state: "done",
        rotated: run.result!.rotated,
        failed: 0,
      });
      expect(job.result!.finished_at).toEqual(expect.any(String));

      const again = await c<{ rotated: number }>("rotateDue", { kind: "user" }, { token: admin.token });
      expect(again.result!.rotated).toBe(0);
    });

    it("when the job id is unknown, then not-found", async () => {
      expect((await c("job", { job_id: "job_nope" }, { token: auditor.token })).error?.status).toBe(
        "NOT_FOUND",
      );
    });
  });

  describe("status, config and dev endpoint", () => {
    it("when status is asked, then it reports storage, counts, intervals and the pepper version", async () => {
      const before = await c<Record<string, any>>("status", {}, { token: auditor.token });
      await c("rotateUser", { user_id: uid("st"), force: true }, { token: admin.token });
      const after = await c<Record<string, any>>("status", {}, { token: auditor.token });
      expect(after.result).toMatchObject({
        storage_type: "firestore",
        degraded: false,
        rotation_intervals: { user_days: 90, global_days: 30 },
        pepper: { version: 1 },
      });
      expect(after.result!.users.total).toBe(before.result!.users.total + 1);
      expect(Date.parse(after.result!.generated_at)).toBeGreaterThan(0);
    });

    it("when intervals are staged and reloaded, then every function follows, and only after the reload", async () => {
      const settings = db().collection("salts_meta").doc("config");
      await settings.set({ pending: { user_days: 45 } }, { mergeFields: ["pending"] });
      await new Promise((r) => setTimeout(r, 2500));
      expect(
        (await c<Record<string, any>>("status", {}, { token: auditor.token })).result!.rotation_intervals
          .user_days,
      ).toBe(90);
      try {
        const r = await c<Record<string, any>>("reloadConfig", {}, { token: admin.token });
        expect(r.result!.rotation_intervals).toEqual({ user_days: 45, global_days: 30 });
        await new Promise((r) => setTimeout(r, 2500));
        expect(
          (await c<Record<string, any>>("status", {}, { token: auditor.token })).result!.rotation_intervals
            .user_days,
        ).toBe(45);
        const created = await c<Record<string, any>>(
          "rotateUser",
          { user_id: uid("int"), force: true },
          { token: admin.token },
        );
        const s = created.result!.salt;
        expectInterval(s, 45);
      } finally {
        await settings.set({ pending: {} }, { mergeFields: ["pending"] });
        const r = await c<Record<string, any>>("reloadConfig", {}, { token: admin.token });
        expect(r.result!.rotation_intervals).toEqual({ user_days: 90, global_days: 30 });
        await new Promise((r) => setTimeout(r, 2500));
      }
    });

    it("when the dev endpoint pseudonymizes, then fields become ps1 pseudonyms with versions", async () => {
      const id = uid("ps");
      const r = await c<Record<string, any>>(
        "pseudonymizeTest",
        {
          user_id: id,
          data: { email: "a@b.c", age: 30, note: null, plan: "pro" },
          fields: ["email", "age", "note"],
        },
        { token: admin.token },
      );
      expect(r.result).toMatchObject({ salt_version: 1, pepper_version: 1 });
      expect(r.result!.pseudonymized.email).toMatch(/^ps1\.u\.1\.1\.[A-Za-z0-9_-]{43}$/);
      expect(r.result!.pseudonymized.age).toMatch(/^ps1\.u\.1\.1\./);
      expect(r.result!.pseudonymized.note).toBeNull();
      expect(r.result!.pseudonymized.plan).toBe("pro");
      const ev = await c<Record<string, any>>(
        "pseudonymizeTest",
        { user_id: id, data: { email: "a@b.c" }, event_type: "signup" },
        { token: admin.token },
      );
      expect(ev.result!.pseudonymized.user_id).toMatch(/^ps1\.g\.1\.1\./);
      const audited = await db()
        .collection("salts_audit")
        .where("correlation_id", "==", r.result!.correlation_id)
        .get();
      expect(audited.docs.map((d) => d.data())).toEqual([
        expect.objectContaining({
          operation: "pseudonymize_test",
          result: "success",
          target: { kind: "user", id },
        }),
      ]);
      expect(ev.result!.pseudonymized.email).not.toBe(r.result!.pseudonymized.email);
    });
  });

  describe("correlation ids", () => {
    it("when the header is sane it is echoed; when not, a fresh one is used", async () => {
      const ok = await c(
        "status",
        {},
        { token: auditor.token, headers: { "X-Correlation-Id": "trace-abc.123" } },
      );
      expect(ok.result?.correlation_id).toBe("trace-abc.123");
      const bad = await c(
        "status",
        {},
        { token: auditor.token, headers: { "X-Correlation-Id": "bad value<script>" } },
      );
      expect(bad.result?.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
      const err = await c(
        "audit",
        { user_id: uid("x") },
        { token: auditor.token, headers: { "X-Correlation-Id": "err-1" } },
      );
      expect(err.error?.details?.correlation_id).toBe("err-1");
    });
  });

  describe("rate limit", () => {
    it("when one caller exceeds the limit from two clients at once, then the excess is refused across instances", async () => {
      const heavy = await createUser({ auditor: true }, "heavy");
      const second = await signIn(heavy.email, heavy.password);
      const other = await createUser({ auditor: true }, "other");
      // Stay inside one one-minute window.
      const intoMinute = Date.now() % 60_000;
      if (intoMinute > 35_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 200));
      // Two clients of one caller, each with a few calls in flight (realistic, not a stampede on one document).
      const limit = 60; // ADMIN_RATE_LIMIT_PER_MINUTE default; the emulator runs with defaults
      const perClient = (limit + 10) / 2;
      const client = async (token: string) => {
        const out: CallResult[] = [];
        for (let i = 0; i < perClient; i += 4) {
          out.push(
            ...(await Promise.all(
              Array.from({ length: Math.min(4, perClient - i) }, () => c("status", {}, { token })),
            )),
          );
        }
        return out;
      };
      const results = (await Promise.all([client(heavy.token), client(second)])).flat();
      const ok = results.filter((r) => r.result).length;
      const limited = results.filter((r) => r.error?.status === "RESOURCE_EXHAUSTED");
      expect(ok).toBe(limit);
      expect(limited).toHaveLength(10);
      for (const r of limited) expect(r.error!.details!.retry_after_seconds).toBeGreaterThan(0);
      expect((await c("status", {}, { token: other.token })).result).toBeDefined();
    });
  });

  describe("metrics", () => {
    const url = () => `http://${functionsHost()}/${PROJECT_ID}/us-central1/salts-metrics`;
    it("when scraped without the token, then 401; with it, the three contract metrics", async () => {
      const { localSecrets } = await import("../support/stack");
      expect((await fetch(url())).status).toBe(401);
      expect((await fetch(url(), { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      const res = await fetch(url(), {
        headers: { authorization: `Bearer ${localSecrets().METRICS_TOKEN}` },
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      recordResponse(text);
      expect(text).toMatch(/# TYPE salt_operations_total counter/);
      expect(text).toMatch(/salt_operations_total\{operation="rotate_user",result="success"\} [1-9]/);
      expect(text).toMatch(/salt_operations_total\{operation="status",result="error"\} [1-9]/);
      expect(text).toMatch(/# TYPE salts_due_total gauge/);
      expect(text).toMatch(/salts_due_total\{kind="user"\} \d+/);
      expect(text).toMatch(/salts_due_total\{kind="global"\} \d+/);
      expect(text).toMatch(/# TYPE salt_operation_latency_seconds histogram/);
      expect(text).toMatch(
        /salt_operation_latency_seconds_bucket\{operation="rotate_user",result="success",le="\+Inf"\} [1-9]/,
      );
    });

    it("when a call is made, then its count reaches the scrape within one flush interval of its instance", async () => {
      const caller = await createUser({ admin: true }, "metrics");
      const rotations = async () => {
        const res = await fetch(url(), {
          headers: { authorization: `Bearer ${localSecrets().METRICS_TOKEN}` },
        });
        const m = /salt_operations_total\{operation="rotate_user",result="success"\} (\d+)/.exec(
          await res.text(),
        );
        return Number(m?.[1] ?? 0);
      };
      // Counts other tests' calls left in their instances' memory reach the store within an interval too.
      await new Promise((r) => setTimeout(r, METRICS_FLUSH_MS + 1_000));
      const before = await rotations();
      const id = `metrics-${Date.now()}`;
      for (let i = 0; i < 3; i++)
        expect(
          (await c("rotateUser", { user_id: id, force: true }, { token: caller.token })).result,
        ).toBeDefined();
      const started = Date.now();
      await expect
        .poll(rotations, { timeout: METRICS_FLUSH_MS + 5_000, interval: 500 })
        .toBeGreaterThanOrEqual(before + 3);
      console.info(
        `metrics: 3 rotations reached the scrape ${Date.now() - started} ms after the last answer`,
      );
    });
  });

  describe("no secret material anywhere (runs last)", () => {
    it("when every response, log line and audit entry of this run is searched, then no salt, pepper or key appears in any form", async () => {
      const secrets = localSecrets();
      const needles = new Map<string, string>();
      for (const name of ["PSEUDONYM_PEPPER", "SALT_ENCRYPTION_KEY", "AUDIT_KEY", "METRICS_TOKEN"]) {
        for (const form of secretForms(secrets[name]!)) needles.set(form, name);
      }
      // Decrypt every salt the functions stored (current and retained) with the emulator's key, and hunt
      // for those too. Salts written by in-process tests under their own keys never passed through the functions.
      const key = { version: 1, bytes: parseEncryptionKey(secrets.SALT_ENCRYPTION_KEY) };
      const open = (place: SaltPlace, version: number, enc: any) =>
        openSalt(
          key,
          { ...enc, iv: Buffer.from(enc.iv), ct: Buffer.from(enc.ct), tag: Buffer.from(enc.tag) },
          saltAad(place, version),
        );
      const found: Buffer[] = [];
      for (const kind of ["user", "global"] as SaltKind[]) {
        const snap = await db().collection(`salts_${kind}`).get();
        for (const doc of snap.docs) {
          if (doc.get("salt.key_id") !== keyIdOf(key.bytes)) continue;
          const id = doc.get("id") as string;
          const place = saltPlace(kind, id, doc.get("chain.id"));
          found.push(open(place, doc.get("version"), doc.get("salt")));
          const shred = doc.get("shred");
          if (shred)
            found.push(
              openSalt(
                key,
                {
                  ...shred,
                  iv: Buffer.from(shred.iv),
                  ct: Buffer.from(shred.ct),
                  tag: Buffer.from(shred.tag),
                },
                shredAad(place),
              ),
            );
          for (const v of (await doc.ref.collection("salt_versions").get()).docs) {
            found.push(open(place, v.get("version"), v.get("salt")));
          }
        }
      }
      for (const salt of found) {
        for (const form of [salt.toString("hex"), salt.toString("base64"), salt.toString("base64url")]) {
          needles.set(form, "a stored salt");
        }
      }
      const salts = found.length;
      expect(salts).toBeGreaterThan(10);
      const audit = (await db().collection("salts_audit").get()).docs.map((d) => JSON.stringify(d.data()));
      expect(audit.length).toBeGreaterThan(10);
      const haystacks: [string, string][] = [
        ["responses", readFileSync(LEDGER, "utf8")],
        ["function logs", emulatorLog()],
        ["audit entries", audit.join("\n")],
        [
          "audit chain heads",
          (await db().collection("salts_audit_chains").get()).docs
            .map((d) => JSON.stringify(d.data()))
            .join("\n"),
        ],
      ];
      expect(haystacks[0]![1].length).toBeGreaterThan(10_000);
      expect(haystacks[1]![1]).toContain("salt operation");
      for (const [where, text] of haystacks) {
        for (const [needle, what] of needles) {
          expect(text.includes(needle), `${what} found in ${where}`).toBe(false);
        }
      }
    });
  });
});
