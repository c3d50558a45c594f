import { chains } from "../functions/domain/auditChain";
import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import {
  FieldPath,
  Timestamp,
  type DocumentReference,
  type Firestore,
  type QueryDocumentSnapshot,
} from "firebase-admin/firestore";
import { auditDocData, COLLECTIONS, versionDocData } from "../functions/adapters/firestore/schema";
import { outboxDocData } from "../functions/adapters/firestore/firestoreOutbox";
import { saltChanged } from "../functions/domain/events";
import { WRITES_PER_ROTATION } from "../functions/domain/ramp";
import { defaultConfig } from "../functions/config/config";
import { saltAad, sealSalt } from "../functions/domain/encryption";
import { ALL_SHARDS, encodeDocId } from "../functions/domain/ids";
import { DEFAULT_POLICY } from "../functions/domain/policy";
import { planCreate, planRotate, saltPlace } from "../functions/domain/rotation";
import { startRotateDue } from "../functions/usecases/jobs/rotation";
import { clearFirestore } from "../test/support/firestore";
import { firestoreRuntime } from "../test/support/runtimes";
import { header } from "./util";
import { rawSaltDoc, seedDueUsers } from "./seedDue";

const DAY = 24 * 60 * 60 * 1000;

/** The writes a rotation of each salt makes, as documents of the same shapes, for the raw baseline. */
function rawWrites(db: Firestore, key: Buffer, prefix: string, n: number) {
  const encKey = { version: 1, bytes: key };
  const now = new Date();
  const writes = new Map<string, { ref: DocumentReference; data: Record<string, unknown> }[]>();
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${i}`;
    const created = planCreate("user", id, new Date(now.getTime() - 200 * DAY), DEFAULT_POLICY);
    const v2 = planRotate(created.record, now, DEFAULT_POLICY, 30, `raw-rot-${i}`);
    const plan = planRotate(v2.record, now, DEFAULT_POLICY, 30, `raw-rot-${i}`);
    const saltRef = db.collection(COLLECTIONS.user).doc(encodeDocId(id));
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
    const event = saltChanged(plan.record, now, "bench");
    writes.set(saltRef.id, [
      { ref: saltRef, data: rawSaltDoc(plan.record, plan.salt, created.shred, encKey, now) },
      {
        ref: saltRef.collection(COLLECTIONS.versions).doc("2"),
        data: versionDocData(
          plan.retired,
          sealSalt(encKey, v2.salt, saltAad(saltPlace("user", id, chains.salt("user", id, "seed")), 2)),
          plan.retiredExpiresAt,
        ),
      },
      { ref: db.collection(COLLECTIONS.audit).doc(entry.id), data: auditDocData(entry, i % 16) },
      // The rotation's event in the outbox (docs/EVENTS.md), as the job commits it.
      { ref: db.collection(COLLECTIONS.events).doc(event.message.event_id), data: outboxDocData(event, now) },
    ]);
  }
  return writes;
}

/**
 * The baseline: list the due salts with the same query and pages the job uses (the only query the
 * indexes allow: every shard, due first), then write the same documents a rotation writes with
 * plain batch() commits of 500, one after another. No guards, no encryption, no planning.
 */
async function rawListAndWrite(db: Firestore, writes: ReturnType<typeof rawWrites>, pageSize: number) {
  const due = db
    .collection(COLLECTIONS.user)
    .where("shard", "in", [...ALL_SHARDS])
    .where("next_rotation", "<=", Timestamp.now())
    .orderBy("next_rotation")
    .orderBy(FieldPath.documentId());
  let listed = 0;
  let after: QueryDocumentSnapshot | null = null;
  for (;;) {
    const page = await (after ? due.startAfter(after) : due).limit(pageSize).get();
    if (page.empty) break;
    const pending = page.docs.flatMap((d) => writes.get(d.id) ?? []);
    for (let start = 0; start < pending.length; start += 500) {
      const batch = db.batch();
      for (const w of pending.slice(start, start + 500)) batch.set(w.ref, w.data);
      await batch.commit();
    }
    listed += page.size;
    after = page.docs.at(-1)!;
  }
  return listed;
}

/**
 * A job rotating 20,000 due salts against the raw list-and-batch() of the same documents, listing
 * included on both sides, each on freshly seeded due salts. The job runs with the ramp lifted
 * (RAMP_START_OPS = RAMP_MAX_OPS = 1,000,000): the emulator has no ramp, and this measures the engine.
 */
export async function benchJob(db: Firestore): Promise<Record<string, number>> {
  const N = 20_000;
  header(
    `batch job: ${N.toLocaleString("en")} due user salts vs a raw listing + batch() of the same documents (Firestore emulator, ramp lifted)`,
  );
  const key = randomBytes(32);
  const pageSize = defaultConfig().pageSize;
  await clearFirestore();
  await seedDueUsers(db, { version: 1, bytes: key }, "job", N);
  const writes = rawWrites(db, key, "job", N);
  let t = performance.now();
  const listed = await rawListAndWrite(db, writes, pageSize);
  const rawSeconds = (performance.now() - t) / 1000;
  if (listed !== N) throw new Error(`the raw listing found ${listed} of ${N}`);

  await clearFirestore();
  await seedDueUsers(db, { version: 1, bytes: key }, "job", N);
  const rt = firestoreRuntime({
    key: key.toString("base64"),
    firestore: db,
    config: { inlineLimit: 1_000_000, rampStartOps: 1_000_000, rampMaxOps: 1_000_000, pageSize },
  });
  t = performance.now();
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
  const jobRate = N / jobSeconds;
  const rawRate = N / rawSeconds;
  const fmtRate = (r: number, s: number) =>
    `${Math.round(r).toLocaleString("en")} salts/s (${s.toFixed(1)} s)`;
  console.log(`job (count, list, conditional batch commits, audit):    ${fmtRate(jobRate, jobSeconds)}`);
  console.log(
    `raw listing + batch() of the same ${(WRITES_PER_ROTATION * N).toLocaleString("en")} documents: ${fmtRate(rawRate, rawSeconds)}`,
  );
  console.log(`ratio: ${(jobRate / rawRate).toFixed(2)} (objective: >= 0.8)`);
  await clearFirestore();
  return { job_salts_per_s: jobRate, raw_salts_per_s: rawRate, ratio: jobRate / rawRate };
}

/**
 * The V8 heap Node gives itself on the 512 MiB instance the job workers run on (functions/triggers/workers.ts;
 * callables have 256 MiB, which Node sizes the same): Node sizes its heap from the cgroup's memory limit,
 * and in a 512 MiB memory cgroup on this machine it chose a 259 MB heap limit with a 1 MB semi-space, which
 * these flags reproduce (the job's peak RSS growth measured both ways: +42 MB in the cgroup, +37 MB with the
 * flags). BENCH_MEM_HEAP=machine runs with the heap Node picks for this whole machine instead.
 */
const INSTANCE_HEAP_FLAGS = ["--max-old-space-size=256", "--max-semi-space-size=1"];

/**
 * A job's memory at 20,000 and 100,000 due salts, each in a fresh process started as on a function instance:
 * the process's peak RSS growth during the job, and what the job holds (the heap in use after the full
 * collections V8 made; none is forced).
 */
export function benchJobMemory(): Record<string, number> {
  const machine = process.env.BENCH_MEM_HEAP === "machine";
  header(
    `batch job memory: peak RSS growth at 20,000 and 100,000 due salts (fresh process each, ${machine ? "this machine's default heap" : "heap of a 512 MiB instance"})`,
  );
  const out: Record<string, number> = {};
  for (const n of [20_000, 100_000]) {
    const child = (args: string[], env: NodeJS.ProcessEnv, flags: string[] = []) =>
      spawnSync(
        process.execPath,
        [
          ...flags,
          "--import",
          "tsx",
          "--expose-gc",
          path.join(__dirname, "jobMemory.ts"),
          String(n),
          ...args,
        ],
        { encoding: "utf8", env, timeout: 1_800_000 },
      );
    const key = randomBytes(32).toString("hex");
    const seeded = child(["seed"], { ...process.env, BENCH_MEM_KEY: key });
    if (seeded.status !== 0) throw new Error(`seeding ${n} failed: ${seeded.stderr.slice(-2000)}`);
    const res = child([], { ...process.env, BENCH_MEM_KEY: key }, machine ? [] : INSTANCE_HEAP_FLAGS);
    const line = res.stdout.trim().split("\n").at(-1) ?? "";
    if (res.status !== 0 || !line.startsWith("{"))
      throw new Error(`memory run for ${n} failed: ${res.stderr.slice(-2000)}`);
    const r = JSON.parse(line) as {
      n: number;
      rotated: number;
      seconds: number;
      rss_before_mb: number;
      rss_peak_mb: number;
      live_heap_growth_mb: number | null;
      full_collections: number;
      heap_limit_mb: number;
    };
    const growth = r.rss_peak_mb - r.rss_before_mb;
    console.log(
      `${n.toLocaleString("en").padStart(7)} due: rotated ${r.rotated.toLocaleString("en")} in ${r.seconds.toFixed(1)} s; heap limit ${r.heap_limit_mb.toFixed(0)} MB; held after full collections ${r.live_heap_growth_mb === null ? "(none made)" : `+${r.live_heap_growth_mb.toFixed(0)} MB (${r.full_collections})`}; RSS ${r.rss_before_mb.toFixed(0)} MB -> peak ${r.rss_peak_mb.toFixed(0)} MB (growth ${growth.toFixed(0)} MB)`,
    );
    out[`growth_mb_${n}`] = growth;
    if (r.live_heap_growth_mb !== null) out[`live_mb_${n}`] = r.live_heap_growth_mb;
  }
  console.log(
    `RSS growth: ${out.growth_mb_20000!.toFixed(0)} MB at 20,000 (objective: < 60 MB); ${(out.growth_mb_100000! - out.growth_mb_20000!).toFixed(0)} MB more at 100,000 (objective: < 10 MB)`,
  );
  return out;
}
