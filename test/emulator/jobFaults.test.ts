import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { encodeDocId } from "../../functions/domain/ids";
import type { CallContext, Services } from "../../functions/usecases/deps";
import { rotateSalt } from "../../functions/usecases/rotateSalt";
import { startRotateDue } from "../../functions/usecases/jobs/rotation";
import { jobStatus } from "../../functions/usecases/jobs/status";
import { adminFirestore, clearFirestore, firestoreHost } from "../support/firestore";
import { firestoreRuntime, firestoreVia } from "../support/runtimes";
import { seedSalts } from "../support/seed";
import { TcpProxy } from "../support/tcpProxy";

const KEY = randomBytes(32).toString("base64");
const db = () => adminFirestore();
const jobCtx: CallContext = { correlationId: "job-test", actor: { uid: "ops", via: "cli" } };
const adminCtx: CallContext = { correlationId: "admin-test", actor: { uid: "admin", via: "callable" } };
const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, "0")}`);

async function salts(idList: string[]) {
  const snaps = await db().getAll(...idList.map((id) => db().collection("salts_user").doc(encodeDocId(id))));
  return snaps.map((s) => ({
    id: s.get("id") as string,
    version: s.get("version") as number,
    count: s.get("rotation_count") as number,
  }));
}

async function rotationAuditCounts(): Promise<Map<string, number>> {
  const snap = await db().collection("salts_audit").where("operation", "==", "rotate_user").get();
  const m = new Map<string, number>();
  for (const d of snap.docs) m.set(d.get("target.id"), (m.get(d.get("target.id")) ?? 0) + 1);
  return m;
}

describe("batch jobs under faults (real Firestore emulator)", () => {
  beforeEach(() => clearFirestore());

  describe("when Firestore goes away in the middle of a job", () => {
    const proxy = new TcpProxy(process.env.FIRESTORE_EMULATOR_HOST ?? "127.0.0.1:8080");
    beforeAll(async () => {
      firestoreHost();
      await proxy.start();
    });
    afterAll(() => proxy.stop());

    it("then the job fails with its progress, nothing is half-written, and a re-run finishes exactly the rest", async () => {
      const N = 1200;
      const all = ids("cut", N);
      await seedSalts(db(), KEY, "user", all);
      const cutRt: Services = firestoreRuntime({
        key: KEY,
        firestore: firestoreVia(proxy.host),
        config: { firestoreTimeoutMs: 3000, jobStaleSeconds: 2, concurrency: 1, pageSize: 150 },
      });

      const running = startRotateDue(cutRt, jobCtx, { kind: "user", dry_run: false });
      const outcome = running.then(
        () => "finished",
        (e: unknown) => e,
      );
      // Cut the connection once the job has committed and checkpointed some of its work.
      for (let i = 0; i < 800; i++) {
        const shards = await db().collectionGroup("shards").get();
        if (shards.docs.some((d) => d.get("done") > 0)) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      proxy.cut();
      const error = await outcome;
      // Cut before a commit: nothing happened (unavailable); cut during one: its outcome is unknown.
      expect(["unavailable", "deadline-exceeded"]).toContain((error as { code?: string }).code);

      const jobs = await db().collection("salts_jobs").get();
      expect(jobs.size).toBe(1);
      const jobId = jobs.docs[0]!.id;
      const healthy = firestoreRuntime({ key: KEY, config: { jobStaleSeconds: 2 } });
      await new Promise((r) => setTimeout(r, 2500));
      const status = await jobStatus(healthy, jobId);
      expect(status.state).toBe("failed");
      const firstRun = await salts(all);
      const rotatedFirst = firstRun.filter((s) => s.version === 2).length;
      expect(rotatedFirst).toBeGreaterThan(0);
      expect(rotatedFirst).toBeLessThan(N);
      expect(status.rotated).toBeLessThanOrEqual(rotatedFirst);
      expect(status.rotated).toBeGreaterThan(0);

      // Nothing half-written: a rotated salt has its retired version and its audit entry; the rest have neither.
      const audits = await rotationAuditCounts();
      for (const s of firstRun) {
        const retired = await db()
          .collection("salts_user")
          .doc(encodeDocId(s.id))
          .collection("salt_versions")
          .doc("1")
          .get();
        expect(retired.exists, s.id).toBe(s.version === 2);
        expect(audits.get(s.id) ?? 0, s.id).toBe(s.version - 1);
      }

      const rerun = await startRotateDue(healthy, jobCtx, { kind: "user", dry_run: false });
      expect(rerun.due.users).toBe(N - rotatedFirst);
      expect(rerun.rotated).toBe(N - rotatedFirst);
      const after = await salts(all);
      expect(after.every((s) => s.version === 2 && s.count === 1)).toBe(true);
      const finalAudits = await rotationAuditCounts();
      expect(all.every((id) => finalAudits.get(id) === 1)).toBe(true);
      for (const id of all) expect((await healthy.salts.get("user", id))?.salt).toHaveLength(32);
    });
  });

  it("when an admin rotates salts while a job runs, then both rotations survive and the counts agree", async () => {
    const all = ids("race", 150);
    await seedSalts(db(), KEY, "user", all);
    const rt = firestoreRuntime({ key: KEY });
    const touched = all.filter((_, i) => i % 10 === 3);
    const [job] = await Promise.all([
      startRotateDue(rt, jobCtx, { kind: "user", dry_run: false }),
      Promise.all(touched.map((id) => rotateSalt(rt, adminCtx, "user", id, { reason: "manual" }))),
    ]);
    const after = await salts(all);
    for (const s of after) {
      expect(s.count, s.id).toBe(s.version - 1);
      if (!touched.includes(s.id)) expect(s.version, s.id).toBe(2);
    }
    for (const s of after.filter((x) => touched.includes(x.id))) expect([2, 3]).toContain(s.version);
    const total = after.reduce((n, s) => n + s.count, 0);
    expect(total).toBe(job.rotated + touched.length);
    const audits = await rotationAuditCounts();
    expect(all.every((id) => audits.get(id) === after.find((s) => s.id === id)!.count)).toBe(true);
    expect(job.failed).toBe(0);
  });
});
