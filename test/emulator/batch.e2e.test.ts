import { beforeAll, describe, expect, it } from "vitest";
import { encodeDocId } from "../../functions/domain/ids";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { seedSalts } from "../support/seed";
import { call, createUser, localSecrets, type TestUser } from "../support/stack";

const db = () => adminFirestore();

async function waitForJob(jobId: string, token: string, timeoutMs = 120_000): Promise<Record<string, any>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await call<Record<string, any>>("job", { job_id: jobId }, { token });
    if (r.result && r.result.state !== "running") return r.result;
    if (Date.now() > until)
      throw new Error(`job ${jobId} still running: ${JSON.stringify(r.result ?? r.error)}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

async function versionsOf(ids: string[]): Promise<number[]> {
  const refs = ids.map((id) => db().collection("salts_user").doc(encodeDocId(id)));
  return (await db().getAll(...refs)).map((s) => s.get("version") as number);
}

async function rotationEntries(jobId: string): Promise<Map<string, number>> {
  const snap = await db().collection("salts_audit").where("reason", "==", `rotate_due job ${jobId}`).get();
  const perTarget = new Map<string, number>();
  for (const d of snap.docs) {
    const id = d.get("target.id") as string;
    perTarget.set(id, (perTarget.get(id) ?? 0) + 1);
  }
  return perTarget;
}

describe("batch rotation fanned out through the Cloud Tasks emulator", () => {
  let admin: TestUser;
  let auditor: TestUser;

  beforeAll(async () => {
    await clearFirestore();
    [admin, auditor] = await Promise.all([
      createUser({ admin: true }, "admin"),
      createUser({ auditor: true }, "auditor"),
    ]);
  });

  it("when more salts are due than the inline limit, then shards run on the queue and each salt rotates once", async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `fan-${String(i).padStart(4, "0")}`);
    await seedSalts(db(), localSecrets().SALT_ENCRYPTION_KEY!, "user", ids);

    const started = await call<Record<string, any>>("rotateDue", { kind: "user" }, { token: admin.token });
    expect(started.result).toMatchObject({
      dry_run: false,
      due: { users: 250, globals: 0 },
      rotated: 0,
      queued: 250,
    });

    const job = await waitForJob(started.result!.job_id, auditor.token);
    expect(job).toMatchObject({ state: "done", total: 250, rotated: 250, failed: 0, mode: "fanout" });
    expect(job.shards).toMatchObject({ total: 25, done: 25, failed: 0 });
    expect(await versionsOf(ids)).toEqual(ids.map(() => 2));
    const entries = await rotationEntries(started.result!.job_id);
    expect(entries.size).toBe(250);
    expect([...entries.values()].every((n) => n === 1)).toBe(true);

    const again = await call<Record<string, any>>(
      "rotateDue",
      { kind: "user", dry_run: true },
      { token: admin.token },
    );
    expect(again.result!.due.users).toBe(0);
  }, 240_000);

  it("when a shard task dies halfway, then the queue retries it and nothing is rotated twice", async () => {
    const ids = Array.from({ length: 120 }, (_, i) => `retry-${String(i).padStart(4, "0")}`);
    await seedSalts(db(), localSecrets().SALT_ENCRYPTION_KEY!, "user", ids);
    await db()
      .collection("salts_meta")
      .doc("fault_injection")
      .set({ shard_failures_left: 3, throw_after: 4 });
    try {
      const started = await call<Record<string, any>>("rotateDue", { kind: "user" }, { token: admin.token });
      expect(started.result!.queued).toBe(120);
      const job = await waitForJob(started.result!.job_id, auditor.token);
      expect(job).toMatchObject({ state: "done", rotated: 120, failed: 0 });
      // The faults really happened: each cost its shard one more attempt. Every attempt takes a fault while
      // any is left (emulatorHooks.cjs), so a retried shard can take a second one: three extra attempts in
      // all, over one to three shards.
      const shards = await db()
        .collection("salts_jobs")
        .doc(started.result!.job_id)
        .collection("shards")
        .get();
      const retries = shards.docs.map((d) => (d.get("attempts") as number) - 1).filter((n) => n > 0);
      expect(
        retries.reduce((a, b) => a + b, 0),
        JSON.stringify(retries),
      ).toBe(3);
      expect(
        (await db().collection("salts_meta").doc("fault_injection").get()).get("shard_failures_left"),
      ).toBe(0);
      expect(await versionsOf(ids)).toEqual(ids.map(() => 2));
      const entries = await rotationEntries(started.result!.job_id);
      expect(entries.size).toBe(120);
      expect([...entries.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await db().collection("salts_meta").doc("fault_injection").delete();
    }
  }, 240_000);
});
