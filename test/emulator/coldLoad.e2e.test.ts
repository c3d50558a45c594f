import { beforeAll, describe, expect, it } from "vitest";
import { encodeDocId } from "../../functions/domain/ids";
import { adminFirestore } from "../support/firestore";
import { functionEnv, probeInstance, type ProbeCall, type ProbeReport } from "../support/functionInstance";
import { createUser, localSecrets, type TestUser } from "../support/stack";

// A fresh instance of the built functions (lib/, as deployed) answers its first call against the
// emulators, with the environment the functions emulator gives a worker (secrets through the local
// Secret Manager server, as in production); then the modules it loaded are read. The start alone is
// covered by test/unit/coldLoad.test.ts.

const JOB_ENGINE = ["engine", "fanout", "chunks", "kinds", "pacer"].map((m) => `lib/usecases/jobs/${m}`);

function firstCall(
  target: string,
  call: ProbeCall,
  extra: Record<string, string> = {},
): Promise<ProbeReport> {
  const secrets = localSecrets();
  return probeInstance({
    entry: "lib/index.js",
    env: functionEnv(target, {
      SECRET_MANAGER_EMULATOR_HOST: process.env.SECRET_MANAGER_EMULATOR_HOST,
      ...secrets,
      ...extra,
    }),
    call,
  });
}

describe("what a function instance loads to answer its first call", () => {
  let admin: TestUser;
  let auditor: TestUser;

  beforeAll(async () => {
    [admin, auditor] = await Promise.all([
      createUser({ admin: true }, "cold"),
      createUser({ auditor: true }, "cold"),
    ]);
  });

  it("when salts-status answers its first call, then the job engine and prom-client never loaded", async () => {
    const r = await firstCall("salts.status", { kind: "callable", uid: auditor.uid });
    expect(r.error).toBeNull();
    expect(r.answer).toMatchObject({ storage_type: "firestore", degraded: false });
    expect(r.modules).toContain("lib/usecases/status");
    expect(r.modules.filter((m) => JOB_ENGINE.includes(m))).toEqual([]);
    expect(r.modules).not.toContain("prom-client");
    expect(r.modules).not.toContain("lib/edge/tasks");
  });

  it("when salts-auditLog answers its first call, then the job engine, other use cases and prom-client never loaded", async () => {
    const r = await firstCall("salts.auditLog", { kind: "callable", uid: auditor.uid, data: { limit: 5 } });
    expect(r.error).toBeNull();
    expect(r.answer).toHaveProperty("entries");
    expect(r.modules).toContain("lib/usecases/audit");
    expect(r.modules.filter((m) => JOB_ENGINE.includes(m))).toEqual([]);
    expect(r.modules.filter((m) => /^lib\/usecases\/(status|erase|rotateSalt|sweep)$/.test(m))).toEqual([]);
    expect(r.modules).not.toContain("prom-client");
  });

  it("when salts-rotateUser answers its first call, then the salt is rotated and the job engine never loaded", async () => {
    const id = `cold-${Date.now()}`;
    const r = await firstCall("salts.rotateUser", {
      kind: "callable",
      uid: admin.uid,
      data: { user_id: id, force: true },
    });
    expect(r.error).toBeNull();
    expect(r.answer).toMatchObject({ created: true, salt: { version: 1 } });
    const stored = await adminFirestore().collection("salts_user").doc(encodeDocId(id)).get();
    expect(stored.get("version")).toBe(1);
    expect(r.modules.filter((m) => JOB_ENGINE.includes(m))).toEqual([]);
  });

  it("when salts-metrics answers its first scrape, then the Secret Manager client, the operation table and the request schemas never loaded", async () => {
    const token = localSecrets().METRICS_TOKEN!;
    const r = await firstCall(
      "salts.metrics",
      { kind: "request", method: "GET", headers: { authorization: `Bearer ${token}` } },
      { ENABLE_METRICS: "true" },
    );
    expect(r.answer).toMatchObject({ status: 200 });
    expect((r.answer as { body: string }).body).toContain("salts_due_total");
    expect(r.modules).toContain("prom-client");
    expect(r.modules).not.toContain("@google-cloud/secret-manager");
    expect(r.modules).not.toContain("lib/edge/operations");
    expect(r.modules).not.toContain("lib/edge/schemas");
    expect(r.modules.filter((m) => JOB_ENGINE.includes(m))).toEqual([]);
  });
});
