import type { CallableRequest } from "firebase-functions/https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeServices } from "../../functions/app/compose";
import { encodeDocId } from "../../functions/domain/ids";
import { handleCall } from "../../functions/edge/callable";
import { ALL_OPERATIONS } from "../../functions/edge/registry";
import type { Services } from "../../functions/usecases/deps";
import { sweepControls } from "../../functions/usecases/sweepControls";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { recordResponse } from "../support/leakLedger";
import { runtimeSecrets, testConfig } from "../support/runtimes";
import { call, createUser, localSecrets, type CallResult, type TestUser } from "../support/stack";
import { ManualClock } from "../support/testDeps";

const HOUR = 3_600_000;
/** Instances re-read a policy that says "guarded" after SETTINGS_REFRESH_SECONDS (2 s in .env.local). */
const POLICY_REFRESH_MS = 2_500;

async function c<T = Record<string, any>>(...args: Parameters<typeof call>): Promise<CallResult<T>> {
  const r = await call<T>(...args);
  recordResponse(r.raw);
  return r;
}

/** Another instance of the service, in this process, on the same Firestore and Auth emulators, with its own clock. */
function otherInstance(clock = new ManualClock(Date.now())): { rt: Services; clock: ManualClock } {
  const s = localSecrets();
  const rt = composeServices({
    config: testConfig(),
    clock: clock.now,
    secrets: runtimeSecrets({
      key: s.SALT_ENCRYPTION_KEY!,
      pepper: s.PSEUDONYM_PEPPER!,
      auditKey: s.AUDIT_KEY!,
    }),
  });
  return { rt, clock };
}

/** A call through the pipeline of that instance, as `uid`, answered like the HTTP helper answers. */
async function inProcess(rt: Services, name: keyof typeof ALL_OPERATIONS, uid: string, data: unknown) {
  const request = {
    auth: { uid, token: { auth_time: Math.floor(Date.now() / 1000) } },
    data,
    rawRequest: { headers: {} },
  };
  try {
    return {
      result: (await handleCall(
        ALL_OPERATIONS[name] as never,
        request as unknown as CallableRequest<unknown>,
        rt,
      )) as any,
    };
  } catch (e) {
    return {
      error: {
        status: String((e as { code: string }).code)
          .toUpperCase()
          .replace(/-/g, "_"),
        message: (e as Error).message,
      },
    };
  }
}

const saltDoc = (id: string) => adminFirestore().collection("salts_user").doc(encodeDocId(id)).get();
const approvalDoc = (id: string) => adminFirestore().collection("salts_approvals").doc(id).get();

describe("dual control over HTTP (functions + auth + firestore emulators)", () => {
  let a: TestUser;
  let b: TestUser;
  let cAdmin: TestUser;
  let d: TestUser;
  let auditor: TestUser;
  let erased: string;
  const run = Date.now().toString(36);
  const subject = (n: number) => `dual-${run}-${n}`;

  beforeAll(async () => {
    await clearFirestore();
    [a, b, cAdmin, d, auditor] = await Promise.all([
      createUser({ admin: true }, "dual-a"),
      createUser({ admin: true }, "dual-b"),
      createUser({ admin: true }, "dual-c"),
      createUser({ admin: true }, "dual-d"),
      createUser({ auditor: true }, "dual-auditor"),
    ]);
    for (const n of [1, 2, 3, 4]) {
      const r = await c("rotateUser", { user_id: subject(n), force: true }, { token: a.token });
      expect(r.result?.created, r.raw).toBe(true);
    }
  }, 240_000);

  afterAll(async () => {
    // Leave the stack as other files expect it: no guards (the removal itself needs a second admin).
    const asked = await c("setApprovals", { operations: [], reason: "test cleanup" }, { token: a.token });
    const id = asked.result?.pending_approval?.approval_id;
    if (id)
      await c(
        "approve",
        { approval_id: id, decision: "approve", reason: "test cleanup" },
        { token: b.token },
      );
    await new Promise((r) => setTimeout(r, POLICY_REFRESH_MS));
  }, 120_000);

  it("when erase is guarded, then an erase only records the request, and a retry with its request_id finds the same one", async () => {
    const set = await c(
      "setApprovals",
      { operations: ["erase"], reason: "four eyes on erasure" },
      { token: a.token },
    );
    expect(set.result).toMatchObject({ operations: ["erase"] });
    expect(set.result?.pending_approval).toBeUndefined();
    const asked = await c(
      "erase",
      { user_id: subject(1), reason: "GDPR #1", request_id: `e-${run}` },
      { token: a.token },
    );
    expect(asked.result?.pending_approval).toMatchObject({ operation: "erase", requested_by: a.uid });
    expect(Date.parse(asked.result!.pending_approval.expires_at) - Date.now()).toBeGreaterThan(23 * HOUR);
    erased = asked.result!.pending_approval.approval_id;
    expect((await saltDoc(subject(1))).exists).toBe(true);
    const stored = await approvalDoc(erased);
    expect(stored.get("state")).toBe("pending");
    expect(JSON.parse(stored.get("request"))).toEqual({ user_id: subject(1), reason: "GDPR #1" });
    const retry = await c(
      "erase",
      { user_id: subject(1), reason: "GDPR #1", request_id: `e-${run}` },
      { token: a.token },
    );
    expect(retry.result?.pending_approval.approval_id).toBe(erased);
    const pending = await c("approvals", { state: "pending" }, { token: auditor.token });
    expect(pending.result?.approvals).toEqual([
      expect.objectContaining({
        approval_id: erased,
        state: "pending",
        requested_by: a.uid,
        operation: "erase",
      }),
    ]);
  }, 180_000);

  it("when the admin who asked, or an auditor, tries to decide, then permission-denied and nothing runs", async () => {
    const self = await c(
      "approve",
      { approval_id: erased, decision: "approve", reason: "mine" },
      { token: a.token },
    );
    expect(self.error?.status).toBe("PERMISSION_DENIED");
    const byAuditor = await c(
      "approve",
      { approval_id: erased, decision: "approve", reason: "x" },
      { token: auditor.token },
    );
    expect(byAuditor.error?.status).toBe("PERMISSION_DENIED");
    expect((await saltDoc(subject(1))).exists).toBe(true);
    expect((await approvalDoc(erased)).get("state")).toBe("pending");
  }, 120_000);

  it("when three admins approve at once (two over HTTP, one on another instance), then the erase runs exactly once", async () => {
    const other = otherInstance().rt;
    const answers = await Promise.all([
      c(
        "approve",
        { approval_id: erased, decision: "approve", reason: "ticket checked (b)" },
        { token: b.token },
      ),
      c(
        "approve",
        { approval_id: erased, decision: "approve", reason: "ticket checked (c)" },
        { token: cAdmin.token },
      ),
      inProcess(other, "approve", d.uid, {
        approval_id: erased,
        decision: "approve",
        reason: "ticket checked (d)",
      }),
    ]);
    const won = answers.filter((r) => r.result);
    expect(won, JSON.stringify(answers.map((r) => r.error ?? "ok"))).toHaveLength(1);
    expect(answers.filter((r) => r.error).map((r) => r.error!.status)).toEqual([
      "FAILED_PRECONDITION",
      "FAILED_PRECONDITION",
    ]);
    const winner = won[0]!.result;
    expect(winner.result).toMatchObject({ erased: true, versions_destroyed: 1 });
    expect(winner.approval).toMatchObject({ state: "approved", run: { state: "done" } });
    expect((await saltDoc(subject(1))).exists).toBe(false);
    const stored = await approvalDoc(erased);
    expect(stored.get("state")).toBe("approved");
    expect(stored.get("run.state")).toBe("done");
    const approver = stored.get("decided_by") as string;
    expect([b.uid, cAdmin.uid, d.uid]).toContain(approver);
    const log = await c("auditLog", { target_id: subject(1), operation: "erase" }, { token: auditor.token });
    expect(log.error, JSON.stringify(log.error)).toBeUndefined();
    const done = log.result!.entries.filter((e: any) => e.result === "success");
    expect(done).toHaveLength(1);
    expect(done[0].actor).toEqual({ uid: a.uid, via: "callable" });
    expect(done[0].details).toMatchObject({
      approval_id: erased,
      approved_by: approver,
      versions_destroyed: 1,
    });
    // A retried approve (by the winner) and a later one are both refused: decided.
    const token = [b, cAdmin].find((u) => u.uid === approver)?.token ?? b.token;
    const again = await c(
      "approve",
      { approval_id: erased, decision: "approve", reason: "again" },
      { token },
    );
    expect(again.error?.status).toBe("FAILED_PRECONDITION");
  }, 240_000);

  it("when a second admin rejects, then nothing runs and the request cannot be approved after", async () => {
    const asked = await c("erase", { user_id: subject(2), reason: "no ticket" }, { token: a.token });
    const id = asked.result!.pending_approval.approval_id;
    const rejected = await c(
      "approve",
      { approval_id: id, decision: "reject", reason: "no ticket given" },
      { token: b.token },
    );
    expect(rejected.result?.approval).toMatchObject({
      state: "rejected",
      decided_by: b.uid,
      reason: "no ticket given",
    });
    expect(rejected.result?.result).toBeUndefined();
    expect((await saltDoc(subject(2))).exists).toBe(true);
    const late = await c(
      "approve",
      { approval_id: id, decision: "approve", reason: "changed mind" },
      { token: cAdmin.token },
    );
    expect(late.error?.status).toBe("FAILED_PRECONDITION");
    expect((await saltDoc(subject(2))).exists).toBe(true);
  }, 120_000);

  it("when a request outlives APPROVAL_TTL_HOURS (a driven clock), then its expiry is recorded on read and by the sweep, and deciding it is failed-precondition", async () => {
    expect(
      (
        await c(
          "setApprovals",
          { operations: ["erase", "reload"], reason: "reloads too" },
          { token: a.token },
        )
      ).result?.operations,
    ).toEqual(["erase", "reload"]);
    const first = (await c("reloadConfig", {}, { token: a.token })).result!.pending_approval.approval_id;
    const later = otherInstance(new ManualClock(Date.now() + 25 * HOUR));
    const read = await inProcess(later.rt, "approvals", auditor.uid, { approval_id: first });
    expect(read.result?.approvals[0]).toMatchObject({ approval_id: first, state: "expired" });
    expect((await approvalDoc(first)).get("state")).toBe("expired");
    const late = await c(
      "approve",
      { approval_id: first, decision: "approve", reason: "late" },
      { token: b.token },
    );
    expect(late.error?.status).toBe("FAILED_PRECONDITION");
    // Expired before anyone read it: the sweep records it.
    const second = (await c("reloadConfig", {}, { token: b.token })).result!.pending_approval.approval_id;
    later.clock.set(new Date(Date.now() + 25 * HOUR));
    const report = await sweepControls(later.rt, {
      correlationId: "sweep-test",
      actor: { uid: "scheduler", via: "scheduler" },
    });
    expect(report.approvals_expired).toBeGreaterThanOrEqual(1);
    expect((await approvalDoc(second)).get("state")).toBe("expired");
    const expired = await c(
      "auditLog",
      { target_id: "approvals", operation: "approval_expired" },
      { token: auditor.token },
    );
    expect(expired.result!.entries.map((e: any) => e.details.approval_id)).toEqual(
      expect.arrayContaining([first, second]),
    );
  }, 180_000);

  it("when an admin removes a guard, then the removal waits for a second admin, and the guard holds until then", async () => {
    const asked = await c(
      "setApprovals",
      { operations: ["reload"], reason: "erasure no longer needs four eyes" },
      { token: a.token },
    );
    expect(asked.result?.operations).toEqual(["erase", "reload"]);
    const removal = asked.result!.pending_approval;
    expect(removal).toMatchObject({ operation: "set_approvals", requested_by: a.uid });
    const held = await c("erase", { user_id: subject(3), reason: "still guarded" }, { token: b.token });
    expect(held.result?.pending_approval).toBeDefined();
    expect((await saltDoc(subject(3))).exists).toBe(true);
    expect(
      (
        await c(
          "approve",
          { approval_id: removal.approval_id, decision: "approve", reason: "mine" },
          { token: a.token },
        )
      ).error?.status,
    ).toBe("PERMISSION_DENIED");
    const approved = await c(
      "approve",
      { approval_id: removal.approval_id, decision: "approve", reason: "agreed" },
      { token: cAdmin.token },
    );
    expect(approved.result?.result).toEqual({ operations: ["reload"] });
    const policy = await adminFirestore().collection("salts_meta").doc("approvals").get();
    expect(policy.get("operations")).toEqual(["reload"]);
    await new Promise((r) => setTimeout(r, POLICY_REFRESH_MS));
    const now = await c("erase", { user_id: subject(3), reason: "unguarded now" }, { token: b.token });
    expect(now.result).toMatchObject({ erased: true, versions_destroyed: 1 });
  }, 180_000);

  it("when a database writer edits a stored request or the policy, then the request cannot be decided and guards fail closed", async () => {
    await c("setApprovals", { operations: ["erase", "reload"], reason: "back on" }, { token: a.token });
    const asked = await c("erase", { user_id: subject(4), reason: "r" }, { token: a.token });
    const id = asked.result!.pending_approval.approval_id;
    await adminFirestore()
      .collection("salts_approvals")
      .doc(id)
      .update({
        request: JSON.stringify({ user_id: subject(2), reason: "r" }),
      });
    const tampered = await c(
      "approve",
      { approval_id: id, decision: "approve", reason: "looks fine" },
      { token: b.token },
    );
    expect(tampered.error?.status).toBe("FAILED_PRECONDITION");
    expect(tampered.error?.message).toContain("changed in storage");
    expect((await saltDoc(subject(2))).exists).toBe(true);
    await adminFirestore()
      .collection("salts_meta")
      .doc("approvals")
      .update({ operations: ["reload"] });
    expect(
      (await c("erase", { user_id: subject(2), reason: "r" }, { token: b.token })).result?.pending_approval,
    ).toBeDefined();
    await adminFirestore().collection("salts_meta").doc("approvals").delete();
    expect((await c("rewrap", {}, { token: b.token })).result?.pending_approval).toBeDefined();
    // Writing the whole policy again (nothing removed) restores it.
    const healed = await c(
      "setApprovals",
      { operations: ["erase", "rewrap", "rotate_due", "reload", "set_role"], reason: "heal" },
      { token: a.token },
    );
    expect(healed.result?.pending_approval).toBeUndefined();
  }, 180_000);

  it("when the trail is read, then asking, approving, rejecting, expiry and policy changes are each in it, and it verifies intact", async () => {
    const count = async (operation: string) =>
      (await c("auditLog", { target_id: "approvals", operation, limit: 500 }, { token: auditor.token }))
        .result!.entries.length;
    expect(await count("approval_requested")).toBeGreaterThanOrEqual(8);
    expect(await count("approval_approved")).toBe(2);
    expect(await count("approval_rejected")).toBe(1);
    expect(await count("approval_expired")).toBeGreaterThanOrEqual(2);
    expect(await count("set_approvals")).toBeGreaterThanOrEqual(5);
    const v = await c("auditVerify", { limit: 10_000 }, { token: auditor.token });
    expect(v.error, "auditVerify answered an error").toBeUndefined();
    expect(v.result).toMatchObject({ intact: true, breaks: [] });
  }, 180_000);
});
