import { Timestamp } from "firebase-admin/firestore";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeDocId } from "../../functions/domain/ids";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { call, createUser, type TestUser } from "../support/stack";
import { DAY } from "../support/testDeps";

const db = () => adminFirestore();

describe("forecast, listings, rewrap and audit filters over HTTP (functions + auth + firestore emulators)", () => {
  let admin: TestUser;
  let auditor: TestUser;
  beforeAll(async () => {
    await clearFirestore();
    [admin, auditor] = await Promise.all([
      createUser({ admin: true }, "admin"),
      createUser({ auditor: true }, "auditor"),
    ]);
    for (const id of ["f-1", "f-2", "f-3"])
      await call("rotateUser", { user_id: id, force: true }, { token: admin.token });
    await call("rotateGlobal", { event_type: "fc", force: true }, { token: admin.token });
  });

  it("when the forecast is asked, then salts fall in their UTC day, overdue ones are counted apart, and bounds hold", async () => {
    const tomorrow = new Date(Math.floor(Date.now() / DAY) * DAY + DAY + 3_600_000);
    await db()
      .collection("salts_user")
      .doc(encodeDocId("f-1"))
      .update({ next_rotation: Timestamp.fromDate(tomorrow) });
    await db()
      .collection("salts_user")
      .doc(encodeDocId("f-2"))
      .update({ next_rotation: Timestamp.fromMillis(Date.now() - DAY) });
    const r = await call<Record<string, any>>("forecast", { days: 3 }, { token: auditor.token });
    expect(r.result!.buckets).toHaveLength(3);
    expect(r.result!.buckets[1]).toMatchObject({ date: tomorrow.toISOString().slice(0, 10), users: 1 });
    expect(r.result!.overdue).toEqual({ users: 1, globals: 0 });
    const year = await call<Record<string, any>>(
      "forecast",
      { days: 366, kind: "global" },
      { token: auditor.token },
    );
    expect(year.result!.buckets).toHaveLength(366);
    expect(year.result!.buckets.reduce((n: number, b: { globals: number }) => n + b.globals, 0)).toBe(1);
    for (const days of [0, 367, 1.5]) {
      expect((await call("forecast", { days }, { token: auditor.token })).error?.status).toBe(
        "INVALID_ARGUMENT",
      );
    }
    expect((await call("forecast", { days: 1 }, { token: auditor.token })).result).toBeDefined();
  });

  it("when salts and jobs are listed, then pages come back with cursors", async () => {
    const p1 = await call<Record<string, any>>(
      "listSalts",
      { kind: "user", limit: 2 },
      { token: auditor.token },
    );
    expect(p1.result!.salts).toHaveLength(2);
    const p2 = await call<Record<string, any>>(
      "listSalts",
      { kind: "user", limit: 2, cursor: p1.result!.next_cursor },
      { token: auditor.token },
    );
    expect(p2.result!.salts.map((s: { id: string }) => s.id)).toEqual(["f-3"]);
    expect(p2.result!.next_cursor).toBeNull();
    await call("rotateDue", { dry_run: true }, { token: admin.token });
    const jobs = await call<Record<string, any>>("listJobs", {}, { token: auditor.token });
    expect(jobs.result!.jobs[0]).toMatchObject({ type: "rotation", state: "done", dry_run: true });
  });

  it("when a rewrap runs with nothing to do, then it plans, runs and is followed with salts-job", async () => {
    const dry = await call<Record<string, any>>("rewrap", { dry_run: true }, { token: admin.token });
    expect(dry.result).toMatchObject({ dry_run: true, total: 0, mode: "dry_run", key_version: 1 });
    const run = await call<Record<string, any>>("rewrap", { request_id: "rw-1" }, { token: admin.token });
    expect(run.result).toMatchObject({ dry_run: false, mode: "inline", rewrapped: 0 });
    const job = await call<Record<string, any>>(
      "job",
      { job_id: run.result!.job_id },
      { token: auditor.token },
    );
    expect(job.result).toMatchObject({ type: "rewrap", state: "done", rewrapped: 0 });
    const replay = await call<Record<string, any>>("rewrap", { request_id: "rw-1" }, { token: admin.token });
    expect(replay.result!.job_id).toBe(run.result!.job_id);
    const status = await call<Record<string, any>>("status", {}, { token: auditor.token });
    expect(status.result!.encryption).toEqual({ current_key_version: 1, key_versions_in_use: [1] });
  });

  it("when the audit log is filtered by result and time, then only matching entries come back", async () => {
    const nobody = await createUser({}, "nobody");
    await call("rotateUser", { user_id: "f-3" }, { token: nobody.token });
    const from = new Date(Date.now() - 60_000).toISOString();
    const denied = await call<Record<string, any>>(
      "auditLog",
      { result: "denied", from },
      { token: auditor.token },
    );
    expect(denied.result!.entries.length).toBeGreaterThanOrEqual(1);
    expect(denied.result!.entries.every((e: { result: string }) => e.result === "denied")).toBe(true);
    const future = await call<Record<string, any>>(
      "auditLog",
      { from: new Date(Date.now() + DAY).toISOString() },
      { token: auditor.token },
    );
    expect(future.result!.entries).toEqual([]);
    const bad = await call(
      "auditLog",
      { from: "yesterday", to: "2020-01-01T00:00:00Z" },
      { token: auditor.token },
    );
    expect(bad.error?.status).toBe("INVALID_ARGUMENT");
    const forged = await call(
      "auditLog",
      { cursor: Buffer.from(JSON.stringify([1e300, "x"])).toString("base64url") },
      { token: auditor.token },
    );
    expect(forged.error).toMatchObject({
      status: "INVALID_ARGUMENT",
      details: { issues: [{ path: "cursor" }] },
    });
  });

  it("when a job id is reserved or not one this service issues, then not-found, never internal", async () => {
    for (const job_id of ["__x__", "__proto__", "job_nope"]) {
      expect((await call("job", { job_id }, { token: auditor.token })).error?.status).toBe("NOT_FOUND");
    }
  });
});
