import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { freshStart, salts, type Operator } from "./cli.harness";

describe("salts CLI idempotency, forecast, rewrap and the audit trail's integrity", () => {
  let admin: Operator;
  let auditor: Operator;

  beforeAll(async () => {
    ({ admin, auditor } = await freshStart());
    expect((await salts(["rotate", "user", "mnt-alice", "--force"], admin.env)).code).toBe(0);
    expect((await salts(["rotate", "global", "signup", "--force"], admin.env)).code).toBe(0);
  });

  // The last test breaks the audit chain on purpose: leave no broken trail to the files after this one.
  afterAll(() => clearFirestore());

  it("when a rotation is repeated with the same --request-id, then the first answer comes back and nothing rotates twice", async () => {
    const first = await salts(
      ["rotate", "user", "mnt-alice", "--request-id", "ticket-77", "--json"],
      admin.env,
    );
    const again = await salts(
      ["rotate", "user", "mnt-alice", "--request-id", "ticket-77", "--json"],
      admin.env,
    );
    expect(first.code).toBe(0);
    expect(again.json().rotation_id).toBe(first.json().rotation_id);
    expect(again.json().salt.version).toBe(2);
    const reused = await salts(
      ["rotate", "user", "mnt-alice", "--request-id", "ticket-77", "--force"],
      admin.env,
    );
    expect(reused.code).toBe(7);
    expect(reused.stderr).toMatch(/^error: cannot do this now: .*request_id/m);
  });

  it("when salts come due, then the forecast lists the days that have some and csv lists every day", async () => {
    const human = await salts(["forecast", "--days", "120"], auditor.env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Overdue now\s+0 user, 0 global$/m);
    expect(human.stdout).toMatch(/^DATE\s+USERS\s+GLOBALS$/m);
    expect(human.stdout.match(/^\d{4}-\d\d-\d\d\s+\d+\s+\d+$/gm)).toHaveLength(2);
    const csv = await salts(["forecast", "--days", "10", "--output", "csv"], auditor.env);
    const lines = csv.stdout.trim().split("\n");
    expect(lines[0]).toBe("date,users,globals");
    expect(lines).toHaveLength(11);
  });

  it("when a rewrap is asked, then a dry run counts, a real one needs --yes, and --wait ends on the rewrap job", async () => {
    const dry = await salts(["rewrap", "--dry-run", "--json"], admin.env);
    expect(dry.json()).toMatchObject({ dry_run: true, queued: 0 });
    const refused = await salts(["rewrap"], admin.env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      "Refusing to re-encrypt every stored salt under the current key without confirmation",
    );
    const run = await salts(["rewrap", "--yes", "--wait", "--interval", "1", "--json"], admin.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.json()).toMatchObject({ type: "rewrap", state: "done", failed: 0 });
  });

  it("when an auditor tries a mutation, then exit 4 and the refusal is in the trail as denied", async () => {
    const r = await salts(["rotate", "user", "mnt-alice"], auditor.env);
    expect(r.code).toBe(4);
    const log = await salts(["audit-log", "--output", "jsonl"], auditor.env);
    const entries = log.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(entries.some((e) => e.result === "denied" && e.actor.uid === auditor.uid)).toBe(true);
  });

  it("when the trail is intact, then audit-verify says so; when an entry is changed, then exit 8 lists the break", async () => {
    const intact = await salts(["audit-verify"], auditor.env);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^✓ audit trail intact: \d+ entries over \d+ targets checked$/m);
    const snap = await adminFirestore()
      .collection("salts_audit")
      .where("target.id", "==", "mnt-alice")
      .limit(1)
      .get();
    await snap.docs[0]!.ref.update({ reason: "rewritten history" });
    const broken = await salts(["audit-verify"], auditor.env);
    expect(broken.code).toBe(8);
    expect(broken.stdout).toMatch(/^✗ audit trail NOT intact/m);
    expect(broken.stdout).toMatch(/^ENTRY\s+TARGET\s+PROBLEM$/m);
    expect(broken.stdout).toMatch(/user:mnt-alice/);
    const json = await salts(["audit-verify", "--json"], auditor.env);
    expect(json.json()).toMatchObject({ intact: false });
  });
});
