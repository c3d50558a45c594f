import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import type { Firestore } from "firebase-admin/firestore";
import { auditDocData, versionDocData } from "../functions/adapters/firestore/schema";
import { saltAad, sealSalt } from "../functions/domain/encryption";
import { encodeDocId } from "../functions/domain/ids";
import { DEFAULT_POLICY } from "../functions/domain/policy";
import { planCreate, planRotate, saltLocation } from "../functions/domain/rotation";
import { startRotateDue } from "../functions/usecases/jobs/rotation";
import { clearFirestore } from "../test/support/firestore";
import { firestoreRuntime } from "../test/support/runtimes";
import { header } from "./util";
import { rawSaltDoc, seedDueUsers } from "./seedDue";

const DAY = 24 * 60 * 60 * 1000;

/** A job rotating 20,000 due salts vs raw batch() commits of the same number of documents. */
export async function benchJob(db: Firestore): Promise<Record<string, number>> {
  header(
    "batch job: 20,000 due user salts vs raw batch() commits of the same documents (Firestore emulator)",
  );
  const N = 20_000;
  const key = randomBytes(32);
  await clearFirestore();
  await seedDueUsers(db, { version: 1, bytes: key }, "job", N);
  const rt = firestoreRuntime({
    key: key.toString("base64"),
    firestore: db,
    config: { inlineLimit: 1_000_000, rampStartOps: 1_000_000, rampMaxOps: 1_000_000 },
  });
  let t = performance.now();
  const out = await startRotateDue(
    rt,
    { correlationId: "bench", actor: { uid: "bench", via: "cli" } },
    {
      kind: "user",
      dry_run: false,
    },
  );
  const jobSeconds = (performance.now() - t) / 1000;
  if (out.rotated !== N) throw new Error(`job rotated ${out.rotated} of ${N}`);

  // The same documents the job wrote, written again with plain batch() commits of 500: each salt document
  // overwritten in place, plus a new retired-version document and a new audit entry per salt, same shapes.
  // The difference to the job is everything the service adds: planning, listing, guards, encryption.
  const encKey = { version: 1, bytes: key };
  const now = new Date();
  const writes: { ref: FirebaseFirestore.DocumentReference; data: Record<string, unknown> }[] = [];
  for (let i = 0; i < N; i++) {
    const id = `job-${i}`;
    const created = planCreate("user", id, new Date(now.getTime() - 200 * DAY), DEFAULT_POLICY);
    const v2 = planRotate(created.record, now, DEFAULT_POLICY, 30, `raw-rot-${i}`);
    const plan = planRotate(v2.record, now, DEFAULT_POLICY, 30, `raw-rot-${i}`);
    const saltRef = db.collection("salts_user").doc(encodeDocId(id));
    writes.push({
      ref: saltRef,
      data: rawSaltDoc(plan.record, plan.salt, created.shred, encKey, now),
    });
    writes.push({
      ref: saltRef.collection("salt_versions").doc("2"),
      data: versionDocData(
        plan.retired,
        sealSalt(encKey, v2.salt, saltAad(saltLocation("user", id), 2)),
        plan.retiredExpiresAt,
      ),
    });
    const entry = {
      id: randomUUID(),
      at: now.toISOString(),
      actor: { uid: "bench", via: "cli" as const },
      operation: "rotate_user",
      target: { kind: "user" as const, id },
      result: "success" as const,
      rotation_id: `raw-rot-${i}`,
      correlation_id: "bench",
      reason: "rotate_due job bench",
    };
    writes.push({ ref: db.collection("salts_audit").doc(entry.id), data: auditDocData(entry, i % 16) });
  }
  const docs = writes.length;
  t = performance.now();
  for (let start = 0; start < docs; start += 500) {
    const batch = db.batch();
    for (const w of writes.slice(start, start + 500)) batch.set(w.ref, w.data);
    await batch.commit();
  }
  const batchSeconds = (performance.now() - t) / 1000;
  const jobRate = N / jobSeconds;
  const batchRate = N / batchSeconds;
  console.log(
    `job (plan, list, conditional batch commits, audit):${Math.round(jobRate).toLocaleString("en")} salts/s  (${jobSeconds.toFixed(1)} s)`,
  );
  console.log(
    `raw batch() of the same ${docs.toLocaleString("en")} documents:       ${Math.round(batchRate).toLocaleString("en")} salts/s  (${batchSeconds.toFixed(1)} s)`,
  );
  console.log(`ratio: ${(jobRate / batchRate).toFixed(2)} (objective: >= 0.5)`);
  await clearFirestore();
  return { job_salts_per_s: jobRate, batch_salts_per_s: batchRate };
}

/** Peak resident memory of a job at 20,000 and 100,000 due salts, each in a fresh process. */
export function benchJobMemory(): Record<string, number> {
  header("batch job memory: peak RSS growth at 20,000 and 100,000 due salts (fresh process each)");
  const out: Record<string, number> = {};
  for (const n of [20_000, 100_000]) {
    const res = spawnSync(
      process.execPath,
      ["--import", "tsx", "--expose-gc", path.join(__dirname, "jobMemory.ts"), String(n)],
      {
        encoding: "utf8",
        env: process.env,
        timeout: 900_000,
      },
    );
    const line = res.stdout.trim().split("\n").at(-1) ?? "";
    if (res.status !== 0 || !line.startsWith("{"))
      throw new Error(`memory run for ${n} failed: ${res.stderr.slice(-2000)}`);
    const r = JSON.parse(line) as {
      n: number;
      rotated: number;
      seconds: number;
      rss_before_mb: number;
      rss_peak_mb: number;
    };
    const growth = r.rss_peak_mb - r.rss_before_mb;
    console.log(
      `${n.toLocaleString("en").padStart(7)} due: rotated ${r.rotated.toLocaleString("en")} in ${r.seconds.toFixed(1)} s; RSS ${r.rss_before_mb.toFixed(0)} MB -> peak ${r.rss_peak_mb.toFixed(0)} MB (growth ${growth.toFixed(0)} MB)`,
    );
    out[`growth_mb_${n}`] = growth;
  }
  console.log(
    `growth from 20,000 to 100,000: ${(out.growth_mb_100000! - out.growth_mb_20000!).toFixed(0)} MB (objective: < 100 MB)`,
  );
  return out;
}
