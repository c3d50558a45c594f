import { beforeAll, describe, expect, it } from "vitest";
import { call } from "../support/stack";
import { ANSI, freshStart, salts, type Operator } from "./cli.harness";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describe("salts CLI output, through the callables as a signed-in operator", () => {
  let admin: Operator;
  let auditor: Operator;

  beforeAll(async () => {
    ({ admin, auditor } = await freshStart());
    for (const id of ["out-alice", "out-bob"]) {
      const r = await call(
        "rotateUser",
        { user_id: id, force: true, reason: "seed" },
        { token: admin.token },
      );
      expect(r.result).toBeDefined();
    }
  });

  it("when status is asked with --json, then stdout is exactly the contract answer and stderr is empty", async () => {
    const r = await salts(["status", "--json"], auditor.env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const answer = r.json();
    expect(answer).toMatchObject({
      storage_type: "firestore",
      degraded: false,
      users: { total: 2, due: 0 },
      globals: { total: 0, due: 0 },
      rotation_intervals: { user_days: 90, global_days: 30 },
      pepper: { version: 1 },
    });
    expect(answer.generated_at).toMatch(ISO);
    expect(answer.correlation_id).toMatch(/^cli-[0-9a-f-]{36}$/);
  });

  it("when a salt is rotated with --json, then the answer is the contract's and the audit entry carries its correlation id", async () => {
    const r = await salts(["rotate", "user", "out-alice", "--reason", "ticket 7", "--json"], admin.env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const answer = r.json();
    expect(Object.keys(answer).sort()).toEqual(["correlation_id", "created", "rotation_id", "salt"]);
    expect(answer.salt).toMatchObject({
      kind: "user",
      id: "out-alice",
      version: 2,
      rotation_count: 1,
      due: false,
    });
    const log = await salts(["audit-log", "--target", "out-alice", "--json"], auditor.env);
    const entry = log.json().entries.find((e: any) => e.rotation_id === answer.rotation_id);
    expect(entry).toMatchObject({
      correlation_id: answer.correlation_id,
      actor: { uid: admin.uid, via: "callable" },
    });
  });

  it("when status is shown to a person, then it is an aligned block in plain words without colours off a terminal", async () => {
    const r = await salts(["status"], auditor.env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).not.toMatch(ANSI);
    expect(r.stdout).toMatch(/^Storage\s+firestore$/m);
    expect(r.stdout).toMatch(/^Health\s+ok$/m);
    expect(r.stdout).toMatch(/^User salts\s+2 \(none due\)$/m);
    expect(r.stdout).toMatch(/^Intervals\s+users every 90 days, globals every 30 days$/m);
    expect(r.stdout).toMatch(/^Generated\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC \(just now\)$/m);
  });

  it("when colours are forced, then they appear, and NO_COLOR still turns them off", async () => {
    expect((await salts(["status"], { ...auditor.env, FORCE_COLOR: "1" })).stdout).toMatch(ANSI);
    expect((await salts(["status"], { ...auditor.env, FORCE_COLOR: "1", NO_COLOR: "1" })).stdout).not.toMatch(
      ANSI,
    );
    expect((await salts(["status", "--no-color"], { ...auditor.env, FORCE_COLOR: "1" })).stdout).not.toMatch(
      ANSI,
    );
  });

  it("when a user's audit is shown to a person, then the salt block, retained versions and an entry table appear", async () => {
    const r = await salts(["audit", "out-alice"], auditor.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Salt\s+user out-alice$/m);
    expect(r.stdout).toMatch(/^Version\s+2 \(1 rotation\)$/m);
    expect(r.stdout).toMatch(/^Retained versions \(1\)$/m);
    expect(r.stdout).toMatch(/^\s+v1\s+[0-9a-f]{16}\s+created/m);
    expect(r.stdout).toMatch(/^AT\s+OPERATION\s+TARGET\s+ACTOR\s+RESULT/m);
    expect(r.stdout).toMatch(/rotate_user\s+user:out-alice\s+\S+ \(callable\)\s+success\s+ticket 7/);
  });

  it("when the audit log is listed for a person, then it is a table newest first with relative times", async () => {
    const r = await salts(["audit-log", "--target", "out-alice"], auditor.env);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^AT\s+OPERATION\s+TARGET\s+ACTOR\s+RESULT\s+REASON\s+CORRELATION_ID$/);
    expect(lines.slice(1).length).toBeGreaterThanOrEqual(3); // seed, rotation, audit read
    expect(lines[1]).toMatch(/^(just now|\d+ seconds? ago)\s+(audit|rotate_user)\s+user:out-alice/);
    expect(lines.at(-1)).toMatch(/rotate_user\s+user:out-alice\s+.*success\s+seed/);
  });

  it("when a list is asked as jsonl or csv, then each entry is one line of data", async () => {
    const jsonl = await salts(["list", "user", "--output", "jsonl"], auditor.env);
    expect(jsonl.code).toBe(0);
    const rows = jsonl.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows.map((s) => s.id).sort()).toEqual(["out-alice", "out-bob"]);
    const csv = await salts(["list", "user", "--output", "csv"], auditor.env);
    expect(csv.stdout.split("\n")[0]).toBe("kind,id,version,last_rotated,next_rotation,due");
    expect(csv.stdout).toMatch(/^user,out-bob,1,\d{4}-[^,]+Z,\d{4}-[^,]+Z,false$/m);
  });

  it("when an object answer is asked as csv, then it is a usage error that says to use --json", async () => {
    const r = await salts(["status", "--output", "csv"], auditor.env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^error: usage: --output csv is for commands that list things; use --json here$/m,
    );
  });
});
