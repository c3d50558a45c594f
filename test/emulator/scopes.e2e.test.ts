import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { composeServices } from "../../functions/app/compose";
import type { Services } from "../../functions/usecases/deps";
import { startScopeRotation } from "../../functions/usecases/jobs/scopeRotation";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { runtimeSecrets, testConfig } from "../support/runtimes";
import {
  call as rawCall,
  createUser,
  emulatorLog,
  localSecrets,
  setTestClock,
  type CallResult,
  type TestUser,
} from "../support/stack";
import { openSalt, parseEncryptionKey, saltAad } from "../../functions/domain/encryption";
import { scopeLocation } from "../../functions/domain/scope";

/** Every answer of this file, for the leak check at its end. */
const answers: string[] = [];
async function call<T = Record<string, unknown>>(
  ...args: Parameters<typeof rawCall>
): Promise<CallResult<T>> {
  const r = await rawCall<T>(...args);
  answers.push(r.raw);
  return r;
}
import { DAY } from "../support/testDeps";

interface Scope {
  scope_id: string;
  version: number;
  rotation_days: number;
  consumers: string[];
  next_rotation: string;
  due: boolean;
}
type Pseudonymized = { pseudonymized: Record<string, string>; scope?: { scope_id: string; version: number } };

const MINUTE = 60_000;
const SCOPES = ["partner-a", "partner-b", "dataset-c"];

describe("scopes over HTTP (functions + auth + firestore emulators)", { timeout: 300_000 }, () => {
  let admin: TestUser;
  let outsider: TestUser;
  let auditor: TestUser;
  let offset = 0;
  // Each function instance caches salts for SALT_CACHE_TTL_SECONDS: moving their clock past it stands for waiting.
  const later = () => setTestClock((offset += 2 * MINUTE));

  /** The library in-process over the same Firestore, pepper and key (what another function would run). */
  const library = (clockOffsetMs = 0): Services => {
    const s = localSecrets();
    return composeServices({
      config: testConfig({ cacheTtlSeconds: 0 }),
      secrets: runtimeSecrets({
        key: s.SALT_ENCRYPTION_KEY!,
        pepper: s.PSEUDONYM_PEPPER,
        auditKey: s.AUDIT_KEY,
      }),
      clock: () => new Date(Date.now() + clockOffsetMs),
      inProcessTasks: true,
    });
  };

  const put = (scope_id: string, consumers: string[], token = admin.token, over: object = {}) =>
    call<{ scope: Scope; created: boolean }>(
      "putScope",
      {
        scope_id,
        description: `audience ${scope_id}`,
        rotation_days: 30,
        consumers,
        reason: "test",
        ...over,
      },
      { token },
    );
  const pseudonymize = (user_id: string, scope?: string, token = admin.token) =>
    call<Pseudonymized>(
      "pseudonymizeTest",
      { user_id, data: { email: `${user_id}@example.com` }, ...(scope ? { scope } : {}) },
      { token },
    );

  beforeAll(async () => {
    await clearFirestore();
    await setTestClock(0);
    [admin, outsider, auditor] = await Promise.all([
      createUser({ admin: true }, "admin"),
      createUser({ admin: true }, "outsider"),
      createUser({ auditor: true }, "auditor"),
    ]);
    for (const id of SCOPES) {
      const r = await put(id, [admin.uid, "bq@demo-salts.iam.gserviceaccount.com"]);
      expect(r.result, JSON.stringify(r.error)).toMatchObject({
        created: true,
        scope: { scope_id: id, version: 1 },
      });
    }
  }, 300_000);

  // Each test starts two minutes on: instance caches expire, and every caller's one-minute rate window is fresh.
  beforeEach(() => later());
  afterAll(() => setTestClock(0));

  it("when an auditor lists scopes, then every scope is there with its consumers; an auditor cannot put one", async () => {
    const r = await call<{ scopes: Scope[]; next_cursor: string | null }>(
      "scopes",
      {},
      { token: auditor.token },
    );
    expect(r.result!.scopes.map((s) => s.scope_id).sort()).toEqual([...SCOPES].sort());
    expect(r.result!.scopes[0]).toMatchObject({ version: 1, rotation_days: 30, due: false });
    expect(r.result!.scopes[0]!.consumers).toContain(admin.uid);
    expect((await put("sneaky", [auditor.uid], auditor.token)).error?.status).toBe("PERMISSION_DENIED");
    expect(
      (await call("rotateScope", { scope_id: "partner-a", reason: "x" }, { token: auditor.token })).error
        ?.status,
    ).toBe("PERMISSION_DENIED");
  });

  it("when three scopes pseudonymize the same subjects, then every (subject, scope) gets its own self-describing pseudonym", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const uid = `s-${i}-${randomBytes(3).toString("hex")}`;
      const plain = (await pseudonymize(uid)).result!.pseudonymized.email!;
      seen.add(plain);
      for (const scope of SCOPES) {
        const r = await pseudonymize(uid, scope);
        expect(r.result!.scope).toEqual({ scope_id: scope, version: 1 });
        const p = r.result!.pseudonymized.email!;
        expect(p).toMatch(new RegExp(`^ps1\\.su\\.${scope}\\.1\\.1\\.1\\.[A-Za-z0-9_-]{43}$`));
        expect(seen.has(p)).toBe(false);
        seen.add(p);
      }
    }
    expect(seen.size).toBe(48);
  });

  it("when a caller is not among a scope's consumers, then permission-denied (audited); an unknown scope is not-found", async () => {
    const uid = `o-${randomBytes(3).toString("hex")}`;
    const r = await pseudonymize(uid, "partner-a", outsider.token);
    expect(r.error?.status).toBe("PERMISSION_DENIED");
    expect(r.raw).not.toContain("ps1.");
    const log = await call<{ entries: { operation: string; result: string; actor: { uid: string } }[] }>(
      "auditLog",
      { target_id: uid },
      { token: auditor.token },
    );
    expect(log.result!.entries).toEqual([
      expect.objectContaining({
        operation: "pseudonymize_test",
        result: "denied",
        actor: expect.objectContaining({ uid: outsider.uid }),
      }),
    ]);
    expect((await pseudonymize(uid, "no-such-scope")).error?.status).toBe("NOT_FOUND");
    // Granting the outsider lets it in at once; taking the grant back refuses it at once.
    await put("partner-a", [admin.uid, outsider.uid]);
    expect((await pseudonymize(uid, "partner-a", outsider.token)).result).toBeDefined();
    await put("partner-a", [admin.uid, "bq@demo-salts.iam.gserviceaccount.com"]);
    expect((await pseudonymize(uid, "partner-a", outsider.token)).error?.status).toBe("PERMISSION_DENIED");
  });

  it("when a scope rotates, then only that scope's pseudonyms change", async () => {
    const uid = `r-${randomBytes(3).toString("hex")}`;
    const before = Object.fromEntries(
      await Promise.all(
        [undefined, ...SCOPES].map(async (s) => [
          s ?? "-",
          (await pseudonymize(uid, s)).result!.pseudonymized.email,
        ]),
      ),
    );
    const rotated = await call<{ scope: Scope; rotation_id: string }>(
      "rotateScope",
      { scope_id: "partner-b", reason: "partner data leak", request_id: `rot-${uid}` },
      { token: admin.token },
    );
    expect(rotated.result).toMatchObject({
      scope: { scope_id: "partner-b", version: 2 },
      rotation_id: expect.any(String),
    });
    // A retry with the same request id answers the same and rotates nothing more.
    const again = await call<{ scope: Scope; rotation_id: string }>(
      "rotateScope",
      { scope_id: "partner-b", reason: "partner data leak", request_id: `rot-${uid}` },
      { token: admin.token },
    );
    expect(again.result!.rotation_id).toBe(rotated.result!.rotation_id);
    const after = Object.fromEntries(
      await Promise.all(
        [undefined, ...SCOPES].map(async (s) => [
          s ?? "-",
          (await pseudonymize(uid, s)).result!.pseudonymized.email,
        ]),
      ),
    );
    expect(after["partner-b"]).not.toBe(before["partner-b"]);
    expect(after["partner-b"]).toMatch(/^ps1\.su\.partner-b\.2\./);
    for (const k of ["-", "partner-a", "dataset-c"]) expect(after[k]).toBe(before[k]);
  });

  it("when a user is erased, then none of their scoped pseudonyms can be recomputed or verified", async () => {
    const uid = `e-${randomBytes(3).toString("hex")}`;
    const email = `${uid}@example.com`;
    const before = new Map<string, string>();
    for (const s of SCOPES) before.set(s, (await pseudonymize(uid, s)).result!.pseudonymized.email!);
    const lib = library(offset);
    for (const [s, p] of before)
      expect(
        await lib.scoped.verifyPseudonym(email, p, { kind: "user", userId: uid, field: "email", scope: s }),
      ).toBe(true);
    expect(
      (await call("erase", { user_id: uid, reason: "GDPR art. 17" }, { token: admin.token })).result,
    ).toBeDefined();
    await later();
    for (const [s, p] of before) {
      expect(
        await lib.scoped.verifyPseudonym(email, p, { kind: "user", userId: uid, field: "email", scope: s }),
      ).toBe(false);
      const again = (await pseudonymize(uid, s)).result!.pseudonymized.email!;
      expect(again).not.toBe(p);
    }
  });

  it("when a scope's interval has passed, then the scope rotation job (the sweep's) rotates it, once", async () => {
    // Created two days ago (the functions' clock set back for the put), so it is due now: the job runs on the
    // real clock (a job's write ramp is paced on the real clock; a job started "in the future" would wait for it).
    await setTestClock(-2 * DAY);
    expect((await put("daily", [admin.uid], admin.token, { rotation_days: 1 })).result?.created).toBe(true);
    await setTestClock(offset);
    const ahead = library(0);
    const ctx = { correlationId: "scope-job-test", actor: { uid: "scheduler", via: "scheduler" as const } };
    const run = await startScopeRotation(ahead, ctx);
    expect(run).toMatchObject({ due: 1, rotated: 1, failed: 0, mode: "inline" });
    const listed = await call<{ scopes: Scope[] }>("scopes", {}, { token: auditor.token });
    const versions = Object.fromEntries(listed.result!.scopes.map((s) => [s.scope_id, s.version]));
    expect(versions).toMatchObject({ daily: 2, "partner-a": 1, "partner-b": 2, "dataset-c": 1 });
    const job = await call<{ type: string; state: string; rotated: number }>(
      "job",
      { job_id: run.job_id },
      { token: auditor.token },
    );
    expect(job.result).toMatchObject({ type: "scope_rotation", state: "done", rotated: 1 });
    // Run again (a retried or second sweep): nothing is due, nothing rotates twice.
    expect(await startScopeRotation(ahead, ctx)).toMatchObject({ due: 0, rotated: 0 });
    const rotations = await call<{ entries: unknown[] }>(
      "auditLog",
      { target_id: "daily", operation: "rotate_scope" },
      { token: auditor.token },
    );
    expect(rotations.result!.entries).toHaveLength(1);
  });

  it("when every answer, audit entry and log line of this file is searched, then no scope secret appears in any form", async () => {
    const key = { version: 1, bytes: parseEncryptionKey(localSecrets().SALT_ENCRYPTION_KEY) };
    const secrets: Buffer[] = [];
    type Enc = { key_version: number; iv: Uint8Array; ct: Uint8Array; tag: Uint8Array };
    const open = (id: string, version: number, enc: Enc) =>
      openSalt(
        key,
        {
          ...enc,
          alg: "A256GCM",
          key_id: (enc as unknown as { key_id: string }).key_id,
          iv: Buffer.from(enc.iv),
          ct: Buffer.from(enc.ct),
          tag: Buffer.from(enc.tag),
        },
        saltAad(scopeLocation(id), version),
      );
    for (const doc of (await adminFirestore().collection("salts_scopes").get()).docs) {
      const id = doc.get("scope_id") as string;
      secrets.push(open(id, doc.get("version") as number, doc.get("secret") as Enc));
      for (const r of doc.get("retained") as { version: number; secret: Enc }[])
        secrets.push(open(id, r.version, r.secret));
    }
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    const trail = await call("auditLog", { limit: 500 }, { token: auditor.token });
    const haystack = [...answers, trail.raw, emulatorLog()].join("\n");
    for (const secret of secrets)
      for (const form of [secret.toString("hex"), secret.toString("base64"), secret.toString("base64url")])
        expect(haystack.includes(form)).toBe(false);
  });

  it("when a scope request is malformed, then invalid-argument names every offending field", async () => {
    const r = await call(
      "putScope",
      { scope_id: "Bad.Id", description: 5, rotation_days: 0, consumers: ["has space", ""], reason: "" },
      { token: admin.token },
    );
    expect(r.error?.status).toBe("INVALID_ARGUMENT");
    const paths = (r.error!.details!.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "scope_id",
        "description",
        "rotation_days",
        "consumers.0",
        "consumers.1",
        "reason",
      ]),
    );
    const t = await call(
      "pseudonymizeTest",
      { user_id: "u", data: { a: "b" }, scope: "UPPER" },
      { token: admin.token },
    );
    expect((t.error!.details!.issues as { path: string }[]).map((i) => i.path)).toEqual(["scope"]);
  });
});
