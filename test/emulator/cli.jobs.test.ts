import { beforeAll, describe, expect, it } from "vitest";
import { adminFirestore } from "../support/firestore";
import { seedSalts } from "../support/seed";
import { call, localSecrets } from "../support/stack";
import { ANSI, freshStart, salts, type Operator } from "./cli.harness";

// Above the emulator's ROTATE_INLINE_LIMIT (100): the job fans out to the task queue. Whether the
// emulator's queue finishes it depends on the machine; the tests only need it to be running.
const DUE = 150;

describe("salts CLI batch jobs: confirmation, --wait progress without a terminal", () => {
  let admin: Operator;
  let auditor: Operator;

  beforeAll(async () => {
    ({ admin, auditor } = await freshStart());
    const ids = Array.from({ length: DUE }, (_, i) => `job-${String(i).padStart(4, "0")}`);
    await seedSalts(adminFirestore(), localSecrets().SALT_ENCRYPTION_KEY!, "user", ids);
  });

  const dueNow = async () =>
    (await call<any>("status", {}, { token: auditor.token })).result!.users.due as number;

  it("when a batch rotation is asked without a terminal and without --yes, then it is refused and nothing rotates", async () => {
    const r = await salts(["rotate", "due"], admin.env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^error: usage: Refusing to rotate every due salt without confirmation: no terminal to ask on$/m,
    );
    expect(r.stderr).toMatch(/^hint: pass --yes to confirm$/m);
    expect(await dueNow()).toBe(DUE);
  });

  it("when an erase is asked without a terminal and without --yes, then it is refused and the salt stays", async () => {
    const r = await salts(["erase", "job-0000", "--reason", "test"], admin.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /Refusing to erase every salt of user job-0000 \(cannot be undone\) without confirmation/,
    );
    expect(
      (await call<any>("audit", { user_id: "job-0000" }, { token: auditor.token })).result?.salt.id,
    ).toBe("job-0000");
  });

  it("when a dry run is asked, then it needs no confirmation and only counts", async () => {
    const r = await salts(["rotate", "due", "--dry-run", "--json"], admin.env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.json()).toMatchObject({ dry_run: true, due: { users: DUE, globals: 0 }, rotated: 0 });
    expect(await dueNow()).toBe(DUE);
  });

  let fanoutJob = "";

  it("when a fanned-out rotation is followed off a terminal, then plain progress lines come, and Ctrl-C leaves the job running", async () => {
    const progressLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("job "));
    const r = await salts(
      ["rotate", "due", "--kind", "user", "--yes", "--wait", "--interval", "1"],
      admin.env,
      undefined,
      120_000,
      (stderr) => progressLines(stderr).length >= 2,
    );
    expect(r.code, r.stderr).toBe(130);
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toMatch(ANSI);
    const lines = progressLines(r.stderr);
    for (const line of lines) {
      expect(line).toMatch(/^job \S+: (running|done) \d+\/150 \(\d+%\), failed 0(, [\d.]+\/s)?(, ETA \S+)?$/);
    }
    expect(lines[0]).toMatch(/^job \S+: running \d+\/150 /);
    fanoutJob = /^job (\S+):/.exec(lines[0]!)![1]!;
    expect(r.stderr).toContain(`stopped waiting; the job goes on: salts job ${fanoutJob} --wait`);
    const job = await salts(["job", fanoutJob, "--json"], auditor.env);
    expect(job.stderr).toBe("");
    expect(job.json()).toMatchObject({ job_id: fanoutJob, total: 150, mode: "fanout" });
  });

  it("when a rotation small enough to run inline is waited for, then one progress line and the finished job follow", async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `evt_${i}`);
    await seedSalts(adminFirestore(), localSecrets().SALT_ENCRYPTION_KEY!, "global", ids);
    const r = await salts(
      ["rotate", "due", "--kind", "global", "--yes", "--wait", "--interval", "1"],
      admin.env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^job \S+: done 40\/40 \(100%\), failed 0\n$/);
    const jobId = /^job (\S+):/.exec(r.stderr)![1]!;
    expect(r.stdout).toMatch(new RegExp(`^Job\\s+${jobId} \\(rotation\\)$`, "m"));
    expect(r.stdout).toMatch(/^State\s+done$/m);
    expect(r.stdout).toMatch(/^Progress\s+40\/40 done, 0 failed$/m);
    const json = await salts(["job", jobId, "--wait", "--json"], auditor.env);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe("");
    expect(json.json()).toMatchObject({ job_id: jobId, state: "done", total: 40, rotated: 40, failed: 0 });
    const list = await salts(["jobs", "--output", "jsonl"], auditor.env);
    expect(
      list.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).job_id),
    ).toEqual(expect.arrayContaining([jobId, fanoutJob]));
  });

  it("when a job id is unknown, then exit 3", async () => {
    const r = await salts(["job", "no_such_job"], auditor.env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error: not found: The job does not exist/m);
  });
});
