import { randomBytes } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import type { ScheduledEvent } from "firebase-functions/scheduler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { services } from "../../functions/app/instance";
import { encodeDocId } from "../../functions/domain/ids";
import { runSweep } from "../../functions/usecases/sweep";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { backendAt, seedSalts } from "../support/seed";
import { DAY } from "../support/testDeps";

const KEY = randomBytes(32).toString("base64");
const db = () => adminFirestore();
const ref = (id: string) => db().collection("salts_user").doc(encodeDocId(id));
const audit = {
  actor: { uid: "seed", via: "cli" as const },
  operation: "rotate_user",
  correlation_id: "seed",
};

const ENV_KEYS = [
  "SALT_BACKEND",
  "SALT_ENCRYPTION_KEY",
  "PSEUDONYM_PEPPER",
  "AUDIT_KEY",
  "PEPPER_SOURCE",
] as const;

describe("salts-integritySweep handler (called directly against the Firestore emulator)", () => {
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  afterAll(() => {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  beforeAll(async () => {
    await clearFirestore();
    // The handler builds its runtime from the environment, as in production.
    Object.assign(process.env, {
      SALT_BACKEND: "firestore",
      SALT_ENCRYPTION_KEY: KEY,
      PSEUDONYM_PEPPER: randomBytes(48).toString("base64"),
      AUDIT_KEY: randomBytes(48).toString("base64"),
      PEPPER_SOURCE: "runtime",
    });
  });

  it("when the sweep runs, then due salts rotate, invariants are repaired or reported, history is purged and it is audited", async () => {
    const due = Array.from({ length: 5 }, (_, i) => `due-${i}`);
    await seedSalts(db(), KEY, "user", due);
    const now = backendAt(db(), KEY, 0);
    for (const id of ["drift", "count", "prev", "tampered"]) await now.getOrCreate("user", id);
    for (const id of ["count", "prev"]) await now.rotate("user", id, { rotationId: `seed-${id}`, audit });
    const old = backendAt(db(), KEY, 40);
    await old.getOrCreate("user", "old-history");
    await old.rotate("user", "old-history", { rotationId: "seed-old", audit });

    await ref("drift").update({ next_rotation: Timestamp.fromMillis(Date.now() + 3 * DAY) });
    await ref("count").update({ rotation_count: 5 });
    await ref("prev").update({ previous_salt_hash: "0000000000000000" });
    const salt = (await ref("tampered").get()).get("salt") as { ct: Buffer };
    const ct = Buffer.from(salt.ct);
    ct[3] = ct[3]! ^ 0xff;
    await ref("tampered").update({ "salt.ct": ct });

    const { salts } = await import("../../functions/index");
    await salts.integritySweep.run({
      scheduleTime: new Date().toISOString(),
      jobName: "test",
    } as ScheduledEvent);

    const entries = await db().collection("salts_audit").where("operation", "==", "sweep").get();
    expect(entries.size).toBe(1);
    const entry = entries.docs[0]!.data();
    expect(entry).toMatchObject({
      result: "success",
      actor: { uid: "scheduler", via: "scheduler" },
      target: { kind: "system", id: "integrity-sweep" },
      details: {
        rotated: 5,
        scan_complete: true,
        rotation_count_mismatch: 1,
        previous_hash_mismatch: 1,
        undecryptable: 1,
        history_purged: 1,
        due_users_after: 0,
        due_globals_after: 0,
      },
    });
    expect(entry.details.repaired_next_rotation).toBeGreaterThanOrEqual(1);
    expect(entry.details.scanned).toBe(10);

    for (const id of due) expect((await ref(id).get()).get("version")).toBe(2);
    const drift = (await ref("drift").get()).data()!;
    const span = drift.next_rotation.toMillis() - drift.last_rotated.toMillis();
    expect(span).toBeLessThanOrEqual(90 * DAY);
    expect(span).toBeGreaterThanOrEqual(0.9 * 90 * DAY);
    expect((await ref("old-history").collection("salt_versions").get()).size).toBe(0);
    expect((await ref("old-history").get()).get("version")).toBe(2);
  });

  it("when sweeps start at once, then they never hold the lease at the same time", async () => {
    const rt = services();
    const ctx = (n: number) => ({
      correlationId: `sweep-${n}`,
      actor: { uid: "scheduler", via: "scheduler" as const },
    });
    const reports = await Promise.all([1, 2, 3].map((n) => runSweep(rt, ctx(n))));
    const held = reports.filter((r) => r.ran).map((r) => r.held!);
    expect(held.length).toBeGreaterThanOrEqual(1);
    held.sort((a, b) => a.from.localeCompare(b.from));
    for (let i = 1; i < held.length; i++) expect(held[i]!.from >= held[i - 1]!.to).toBe(true);
  });

  it("when another holder has the lease, then the sweep stands down until it is released", async () => {
    const rt = services();
    expect(await rt.leases.acquireLease("sweep", "someone-else", new Date(), 60_000)).toBe(true);
    const ctx = { correlationId: "sweep-blocked", actor: { uid: "scheduler", via: "scheduler" as const } };
    expect((await runSweep(rt, ctx)).ran).toBe(false);
    await rt.leases.releaseLease("sweep", "someone-else");
    expect((await runSweep(rt, ctx)).ran).toBe(true);
  });
});
