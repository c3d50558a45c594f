import { randomBytes } from "node:crypto";
import type { CallableRequest } from "firebase-functions/https";
import { describe, expect, it } from "vitest";
import { MemoryAccounts } from "../../functions/adapters/memory/memoryAccounts";
import { MemoryState } from "../../functions/adapters/memory/memoryState";
import { composeServices } from "../../functions/app/compose";
import { handleCall } from "../../functions/edge/callable";
import { ALL_OPERATIONS } from "../../functions/edge/registry";
import { auditVerify } from "../../functions/usecases/auditVerify";
import { sweepControls } from "../../functions/usecases/sweepControls";
import { runtimeSecrets, testConfig } from "../support/runtimes";
import { ManualClock } from "../support/testDeps";

const HOUR = 3_600_000;
type Name = keyof typeof ALL_OPERATIONS;

function runtime() {
  const clock = new ManualClock();
  const accounts = new MemoryAccounts();
  const state = new MemoryState();
  const rt = composeServices({
    config: testConfig({ backend: "memory", approvalTtlHours: 24 }),
    clock: clock.now,
    secrets: runtimeSecrets({ key: randomBytes(32).toString("hex") }),
    identity: accounts,
    accounts,
    memoryState: state,
  });
  for (const [uid, claims] of [
    ["alice", { admin: true, team: "privacy" }],
    ["bob", { admin: true }],
    ["carol", { auditor: true }],
    ["dave", {}],
  ] as const)
    accounts.add({ uid, email: `${uid}@example.test`, claims });
  /** A call through the one pipeline, as `uid`. */
  const call = async (name: Name, uid: string, data: unknown): Promise<Record<string, any>> => {
    const request = { auth: { uid, token: { auth_time: 0 } }, data, rawRequest: { headers: {} } };
    try {
      return await handleCall(
        ALL_OPERATIONS[name] as never,
        request as unknown as CallableRequest<unknown>,
        rt,
      );
    } catch (e) {
      return { error: (e as { code: string }).code, message: (e as Error).message };
    }
  };
  return { rt, clock, accounts, state, call };
}

describe("dual control on the memory backend, through the pipeline", () => {
  it("when erase is guarded, then the call only asks; the asker cannot decide; another admin's approval erases once", async () => {
    const { rt, call, state } = runtime();
    await rt.salts.getOrCreate("user", "subject-1");
    expect(
      (await call("setApprovals", "alice", { operations: ["erase"], reason: "policy" })).operations,
    ).toEqual(["erase"]);
    const asked = await call("erase", "alice", { user_id: "subject-1", reason: "GDPR", request_id: "r-1" });
    const id = asked.pending_approval.approval_id as string;
    expect(asked.pending_approval).toMatchObject({ operation: "erase", requested_by: "alice" });
    expect(await rt.salts.record("user", "subject-1")).not.toBeNull();
    // A retry with the same request_id gets the same pending answer, not a second request.
    expect(
      (await call("erase", "alice", { user_id: "subject-1", reason: "GDPR", request_id: "r-1" }))
        .pending_approval.approval_id,
    ).toBe(id);
    expect(state.approvals.size).toBe(1);

    expect(
      (await call("approve", "alice", { approval_id: id, decision: "approve", reason: "me" })).error,
    ).toBe("permission-denied");
    expect(
      (await call("approve", "carol", { approval_id: id, decision: "approve", reason: "x" })).error,
    ).toBe("permission-denied");
    const decided = await call("approve", "bob", { approval_id: id, decision: "approve", reason: "checked" });
    expect(decided.approval).toMatchObject({ state: "approved", decided_by: "bob", run: { state: "done" } });
    expect(decided.result).toMatchObject({ erased: true, versions_destroyed: 1 });
    expect(await rt.salts.record("user", "subject-1")).toBeNull();
    expect(
      (await call("approve", "bob", { approval_id: id, decision: "approve", reason: "again" })).error,
    ).toBe("failed-precondition");
    const erases = state.audit.filter((e) => e.operation === "erase" && e.result === "success");
    expect(erases).toHaveLength(1);
    expect(erases[0]!.actor.uid).toBe("alice");
    expect(erases[0]!.details).toMatchObject({ approval_id: id, approved_by: "bob", versions_destroyed: 1 });
    expect(state.audit.map((e) => e.operation)).toEqual(
      expect.arrayContaining(["set_approvals", "approval_requested", "approval_approved", "erase"]),
    );
    expect((await auditVerify(rt, { limit: 1000 })).intact).toBe(true);
  });

  it("when an approve is retried with its request_id, or resumed after its run never reported back, then the request still ran once", async () => {
    const { rt, call, state } = runtime();
    await rt.salts.getOrCreate("user", "subject-r");
    await call("setApprovals", "alice", { operations: ["erase"], reason: "policy" });
    const id = (await call("erase", "alice", { user_id: "subject-r", reason: "r" })).pending_approval
      .approval_id;
    const data = { approval_id: id, decision: "approve", reason: "ok", request_id: "ap-1" };
    const first = await call("approve", "bob", data);
    expect(first.result).toMatchObject({ erased: true });
    const retry = await call("approve", "bob", data);
    expect(retry.result).toEqual(first.result);
    // An instance lost after the erase committed, before the approval heard of it: the approver resumes it.
    state.approvals.get(id)!.run!.state = "running";
    const resumed = await call("approve", "bob", { approval_id: id, decision: "approve", reason: "resume" });
    expect(resumed.result).toEqual(first.result);
    expect(state.approvals.get(id)!.run!.state).toBe("done");
    expect(state.audit.filter((e) => e.operation === "erase" && e.result === "success")).toHaveLength(1);
  });

  it("when two admins approve at once, then the request runs once and one of them is told it is decided", async () => {
    const { rt, call, accounts, state } = runtime();
    accounts.add({ uid: "erin", claims: { admin: true } });
    await rt.salts.getOrCreate("user", "subject-2");
    await call("setApprovals", "alice", { operations: ["erase"], reason: "policy" });
    const id = (await call("erase", "alice", { user_id: "subject-2", reason: "r" })).pending_approval
      .approval_id;
    const [a, b] = await Promise.all([
      call("approve", "bob", { approval_id: id, decision: "approve", reason: "1" }),
      call("approve", "erin", { approval_id: id, decision: "approve", reason: "2" }),
    ]);
    expect([a.error, b.error].filter(Boolean)).toEqual(["failed-precondition"]);
    expect(state.audit.filter((e) => e.operation === "erase" && e.result === "success")).toHaveLength(1);
  });

  it("when a request is rejected, then nothing runs and it cannot be approved after", async () => {
    const { rt, call } = runtime();
    await rt.salts.getOrCreate("user", "subject-3");
    await call("setApprovals", "alice", { operations: ["erase", "rewrap"], reason: "policy" });
    const id = (await call("erase", "alice", { user_id: "subject-3", reason: "r" })).pending_approval
      .approval_id;
    const rejected = await call("approve", "bob", {
      approval_id: id,
      decision: "reject",
      reason: "no ticket",
    });
    expect(rejected.approval).toMatchObject({ state: "rejected", reason: "no ticket" });
    expect(rejected.result).toBeUndefined();
    expect(await rt.salts.record("user", "subject-3")).not.toBeNull();
    expect((await call("approve", "bob", { approval_id: id, decision: "approve", reason: "x" })).error).toBe(
      "failed-precondition",
    );
    // A dry run changes nothing and is never held.
    expect((await call("rewrap", "alice", { dry_run: true })).dry_run).toBe(true);
  });

  it("when a request waits past APPROVAL_TTL_HOURS, then it is expired (recorded on read and by the sweep) and cannot be decided", async () => {
    const { call, clock, state, rt } = runtime();
    await call("setApprovals", "alice", { operations: ["reload"], reason: "policy" });
    const first = (await call("reloadConfig", "alice", {})).pending_approval.approval_id;
    const second = (await call("reloadConfig", "bob", {})).pending_approval.approval_id;
    clock.advance(25 * HOUR);
    const listed = await call("approvals", "carol", { state: "expired" });
    expect(listed.approvals.map((a: { approval_id: string }) => a.approval_id).sort()).toEqual(
      [first, second].sort(),
    );
    expect(state.audit.filter((e) => e.operation === "approval_expired")).toHaveLength(2);
    expect(
      (await call("approve", "bob", { approval_id: first, decision: "approve", reason: "late" })).error,
    ).toBe("failed-precondition");
    const third = (await call("reloadConfig", "alice", {})).pending_approval.approval_id;
    clock.advance(25 * HOUR);
    const report = await sweepControls(rt, {
      correlationId: "sweep",
      actor: { uid: "scheduler", via: "scheduler" },
    });
    expect(report.approvals_expired).toBe(1);
    expect(state.approvals.get(third)?.state).toBe("expired");
  });

  it("when a guard is removed, then the removal waits for another admin, and guards added meanwhile stay", async () => {
    const { call } = runtime();
    await call("setApprovals", "alice", { operations: ["erase", "rewrap"], reason: "start" });
    const asked = await call("setApprovals", "alice", {
      operations: ["rewrap", "reload"],
      reason: "drop erase",
    });
    expect(asked.operations).toEqual(["erase", "rewrap", "reload"]);
    const id = asked.pending_approval.approval_id;
    expect((await call("erase", "bob", { user_id: "x", reason: "r" })).pending_approval).toBeDefined();
    await call("setApprovals", "bob", {
      operations: ["erase", "rewrap", "reload", "set_role"],
      reason: "more",
    });
    const approved = await call("approve", "bob", { approval_id: id, decision: "approve", reason: "ok" });
    expect(approved.result.operations).toEqual(["rewrap", "reload", "set_role"]);
    expect((await call("erase", "bob", { user_id: "x", reason: "r" })).erased).toBe(false);
  });

  it("when a database writer edits a stored request or the policy, then the request cannot be decided and every operation is guarded", async () => {
    const { call, state } = runtime();
    await call("setApprovals", "alice", { operations: ["reload"], reason: "policy" });
    const id = (await call("reloadConfig", "alice", {})).pending_approval.approval_id;
    state.approvals.get(id)!.requested_by = "mallory";
    expect((await call("approve", "bob", { approval_id: id, decision: "approve", reason: "x" })).error).toBe(
      "failed-precondition",
    );
    state.approvalPolicy!.operations = [];
    expect((await call("erase", "alice", { user_id: "x", reason: "r" })).pending_approval).toBeDefined();
    state.approvalPolicy = null;
    expect((await call("rewrap", "alice", {})).pending_approval).toBeDefined();
  });
});

describe("access on the memory backend", () => {
  it("when an admin grants and revokes a role, then other claims stay, the holder's next call sees it, and every change is audited", async () => {
    const { call, accounts, state } = runtime();
    expect((await call("status", "dave", {})).error).toBe("permission-denied");
    const granted = await call("setRole", "alice", {
      email: "dave@example.test",
      role: "auditor",
      grant: true,
      reason: "audit",
    });
    expect(granted).toMatchObject({ uid: "dave", roles: ["auditor"] });
    expect((await call("status", "dave", {})).storage_type).toBe("memory");
    const roles = await call("roles", "carol", {});
    expect(roles.holders.map((h: { uid: string }) => h.uid)).toEqual(["dave"]);
    await call("setRole", "alice", { uid: "dave", role: "auditor", grant: false, reason: "done" });
    expect((await call("status", "dave", {})).error).toBe("permission-denied");
    expect((await accounts.find({ uid: "alice" }))?.claims).toEqual({ admin: true, team: "privacy" });
    const entries = state.audit.filter((e) => e.operation === "set_role" && e.result === "success");
    expect(entries.map((e) => [e.target.id, e.details?.uid, e.details?.grant])).toEqual([
      ["access", "dave", true],
      ["access", "dave", false],
    ]);
  });

  it("when an admin revokes its own admin role, then it is refused and the claim stays", async () => {
    const { call, accounts } = runtime();
    const r = await call("setRole", "alice", { uid: "alice", role: "admin", grant: false, reason: "oops" });
    expect(r.error).toBe("failed-precondition");
    expect((await accounts.find({ uid: "alice" }))?.claims.admin).toBe(true);
  });

  it("when roles were set outside the service, then a scan finds them and the index listing checks each against Auth", async () => {
    const { call, accounts } = runtime();
    const index = await call("roles", "carol", {});
    expect(index.holders).toEqual([]);
    expect(index.reconciled_at).toBeNull();
    const scan = await call("roles", "carol", { scan: true });
    expect(scan.holders.map((h: { uid: string }) => h.uid).sort()).toEqual(["alice", "bob", "carol"]);
    expect(scan.next_cursor).toBeNull();
    expect(scan.reconciled_at).toEqual(expect.any(String));
    accounts.add({ uid: "bob", claims: {} });
    const after = await call("roles", "carol", { role: "admin" });
    expect(after.holders.map((h: { uid: string }) => h.uid)).toEqual(["alice"]);
  });

  it("when set_role is guarded, then a grant waits for approval and runs as the asker, approved by another", async () => {
    const { call, state, accounts } = runtime();
    await call("setApprovals", "alice", { operations: ["set_role"], reason: "p" });
    const asked = await call("setRole", "alice", {
      uid: "dave",
      role: "admin",
      grant: true,
      reason: "new admin",
    });
    expect((await accounts.find({ uid: "dave" }))?.claims.admin).toBeUndefined();
    const done = await call("approve", "bob", {
      approval_id: asked.pending_approval.approval_id,
      decision: "approve",
      reason: "ok",
    });
    expect(done.result).toEqual({ uid: "dave", roles: ["admin"] });
    const entry = state.audit.find((e) => e.operation === "set_role" && e.result === "success")!;
    expect(entry.actor.uid).toBe("alice");
    expect(entry.details).toMatchObject({ approved_by: "bob", uid: "dave", grant: true });
  });
});
