import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuntimeSecret, SecretManagerSecret } from "../../functions/adapters/secretManager/secretVersions";
import { aesKeyText, pepperText, auditKeyText } from "../../functions/adapters/secretManager/validators";
import { composeServices } from "../../functions/app/compose";
import { isSaltServiceError } from "../../functions/domain/errors";
import { secretManagerClient } from "../../functions/app/firebase";
import type { Services } from "../../functions/usecases/deps";
import { startRewrap } from "../../functions/usecases/jobs/rewrap";
import { jobStatus } from "../../functions/usecases/jobs/status";
import { getStatus } from "../../functions/usecases/status";
import { LocalSecretManager } from "../../scripts/lib/secretManager.mjs";
import { adminFirestore, clearFirestore, firestoreHost, PROJECT_ID } from "../support/firestore";
import { firestoreVia, testConfig } from "../support/runtimes";
import { call, createUser } from "../support/stack";
import { TcpProxy } from "../support/tcpProxy";

const ctx = { correlationId: "keys", actor: { uid: "ops", via: "cli" as const } };
const db = () => adminFirestore();
/** One entry per salt rewrapped (the job's own start entries target the job). */
const rewrapEntries = () =>
  db().collection("salts_audit").where("operation", "==", "rewrap").where("target.kind", "==", "user");

describe("the salt-encryption key over its whole life (local Secret Manager, Firestore emulator)", () => {
  const sm = new LocalSecretManager();
  const proxy = new TcpProxy(process.env.FIRESTORE_EMULATOR_HOST ?? "127.0.0.1:8080");
  let host: string;

  beforeAll(async () => {
    firestoreHost();
    await clearFirestore();
    host = await sm.start();
    await proxy.start();
    sm.addVersion(PROJECT_ID, "SALT_ENCRYPTION_KEY", `${randomBytes(32).toString("base64")}\n`);
  });
  afterAll(async () => {
    await sm.stop();
    await proxy.stop();
  });

  /** An instance reading the key from Secret Manager (`latest`, re-resolved at once), as deployed. */
  const instance = (opts: { viaProxy?: boolean; timeoutMs?: number } = {}): Services =>
    composeServices({
      config: testConfig({
        inlineLimit: 100_000,
        concurrency: 1, // one chunk at a time, paced by the ramp: the cut lands between commits
        firestoreTimeoutMs: opts.timeoutMs ?? 20_000,
      }),
      ...(opts.viaProxy ? { firestore: firestoreVia(proxy.host) } : {}),
      secrets: {
        keys: new SecretManagerSecret(secretManagerClient(host), PROJECT_ID, "SALT_ENCRYPTION_KEY", {
          validate: aesKeyText,
          refreshMs: 1,
        }),
        pepper: new RuntimeSecret("PSEUDONYM_PEPPER", () => "p".repeat(48), 1, pepperText),
        auditKey: new RuntimeSecret("AUDIT_KEY", () => "a".repeat(48), 1, auditKeyText),
      },
      inProcessTasks: true,
    });

  const users = Array.from({ length: 300 }, (_, i) => `key-user-${String(i).padStart(3, "0")}`);

  it("when salts written under v1 are rewrapped to v2 and v1 is disabled, then every version decrypts and no pseudonym changes", async () => {
    const v1 = instance();
    const before = new Map<string, string>();
    for (const id of users) {
      const out = await v1.pseudonymizer.pseudonymizeUserData(id, { email: `${id}@x.io` }, ["email"]);
      before.set(id, out.data.email);
    }
    // Some salts get retired versions under v1 too.
    const audit = { actor: ctx.actor, correlation_id: "k", operation: "rotate_user" };
    for (const id of users.slice(0, 30)) await v1.salts.rotate("user", id, { rotationId: `r-${id}`, audit });
    const old = new Map<string, string>();
    for (const id of users.slice(0, 30)) old.set(id, before.get(id)!);
    expect((await getStatus(v1)).encryption).toMatchObject({
      current_key_version: 1,
      key_versions_in_use: [1],
    });

    sm.addVersion(PROJECT_ID, "SALT_ENCRYPTION_KEY", randomBytes(32).toString("hex"));
    const v2 = instance();
    expect((await getStatus(v2)).encryption).toMatchObject({
      current_key_version: 2,
      key_versions_in_use: [1],
    });
    const dry = await startRewrap(v2, ctx, { dry_run: true });
    expect(dry).toMatchObject({ dry_run: true, total: users.length, mode: "dry_run", key_version: 2 });

    // A fault in the middle: the store is cut off after part of the job committed.
    const cut = instance({ viaProxy: true, timeoutMs: 3000 });
    const running = startRewrap(cut, ctx, { dry_run: false }).then(
      () => "finished",
      (e: unknown) => e,
    );
    for (let i = 0; i < 500; i++) {
      const done = await rewrapEntries().count().get();
      if (done.data().count > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    proxy.cut();
    const outcome = await running;
    proxy.restore();
    // A commit whose answer was cut off may still land: let the emulator settle before counting.
    await new Promise((r) => setTimeout(r, 2000));
    const firstRun = (
      await db()
        .collection("salts_audit")
        .where("operation", "==", "rewrap")
        .where("result", "==", "success")
        .get()
    ).size;
    expect(outcome === "finished" || firstRun < users.length).toBe(true);

    // The rerun does the rest (the emulator may still be settling the cut-off commit: count, not equality).
    // The emulator holds the cut-off transaction's locks until it expires it; a rerun that meets them
    // answers unavailable, as against a busy database, and is run again as an operator would.
    const rerun = await (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await startRewrap(v2, ctx, { dry_run: false });
        } catch (e) {
          if (attempt >= 5 || !isSaltServiceError(e) || e.code !== "unavailable") throw e;
          await new Promise((r) => setTimeout(r, 5000));
        }
      }
    })();
    expect(rerun.total).toBeGreaterThan(0);
    expect(rerun.total).toBeLessThanOrEqual(users.length - firstRun + 1);
    expect((await jobStatus(v2, rerun.job_id)).state).toBe("done");
    const entries = await rewrapEntries().get();
    const perSalt = new Map<string, number>();
    for (const d of entries.docs) {
      perSalt.set(d.get("target.id"), (perSalt.get(d.get("target.id")) ?? 0) + 1);
    }
    expect(perSalt.size).toBe(users.length);
    expect([...perSalt.values()].every((n) => n === 1)).toBe(true);
    expect((await getStatus(v2)).encryption).toMatchObject({
      current_key_version: 2,
      key_versions_in_use: [2],
    });

    sm.setState(PROJECT_ID, "SALT_ENCRYPTION_KEY", 1, "DISABLED");
    const after = instance();
    for (const id of users) {
      const out = await after.pseudonymizer.pseudonymizeUserData(id, { email: `${id}@x.io` }, ["email"]);
      if (!old.has(id)) expect(out.data.email).toBe(before.get(id));
    }
    // Retired versions still verify the pseudonyms made under them, now decrypted with v2.
    for (const [id, pseudonym] of old) {
      expect(
        await after.pseudonymizer.verifyPseudonym(`${id}@x.io`, pseudonym, {
          kind: "user",
          userId: id,
          field: "email",
        }),
      ).toBe(true);
    }
    for (const doc of (await db().collection("salts_user").get()).docs) {
      expect(doc.get("salt.key_version")).toBe(2);
      expect(doc.get("key_versions")).toEqual([2]);
    }
  }, 180_000);

  it("when a ciphertext names a disabled key version, then failed-precondition naming the version, never internal", async () => {
    sm.setState(PROJECT_ID, "SALT_ENCRYPTION_KEY", 1, "ENABLED");
    await db().collection("salts_user").doc("a2V5LXVzZXItMDAw").update({ "salt.key_version": 1 });
    sm.setState(PROJECT_ID, "SALT_ENCRYPTION_KEY", 1, "DISABLED");
    await expect(instance().salts.get("user", "key-user-000")).rejects.toMatchObject({
      code: "failed-precondition",
      message: expect.stringContaining("SALT_ENCRYPTION_KEY version 1"),
    });
  });

  it("when an auditor asks to rewrap, then permission-denied", async () => {
    const auditor = await createUser({ auditor: true }, "auditor");
    expect((await call("rewrap", { dry_run: true }, { token: auditor.token })).error?.status).toBe(
      "PERMISSION_DENIED",
    );
  });
});
