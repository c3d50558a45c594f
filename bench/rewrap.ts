import { chains } from "../functions/domain/auditChain";
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { FieldPath, type Firestore, type QueryDocumentSnapshot } from "firebase-admin/firestore";
import { COLLECTIONS, versionDocData } from "../functions/adapters/firestore/schema";
import { composeServices } from "../functions/app/compose";
import { defaultConfig } from "../functions/config/config";
import { saltAad, sealSalt, type EncryptionKey } from "../functions/domain/encryption";
import { isStorageFault } from "../functions/domain/errors";
import { encodeDocId } from "../functions/domain/ids";
import { DEFAULT_POLICY } from "../functions/domain/policy";
import { planCreate, planRotate, saltPlace } from "../functions/domain/rotation";
import type { VersionedSecret } from "../functions/ports/secrets";
import { startRewrap } from "../functions/usecases/jobs/rewrap";
import { clearFirestore } from "../test/support/firestore";
import { runtimeSecrets, testConfig } from "../test/support/runtimes";
import { seedDueUsers } from "./seedDue";
import { header } from "./util";

const N = Number(process.env.BENCH_REWRAP_SALTS ?? 5_000);
const PAGE = 500;

/** The encryption key ring after a key rotation: version 2 encrypts, version 1 still decrypts. */
function rotatedKeys(v1: EncryptionKey): VersionedSecret {
  const v2 = { version: 2, bytes: randomBytes(32) };
  return {
    name: "SALT_ENCRYPTION_KEY",
    description: "bench:two versions",
    current: () => Promise.resolve(v2),
    version: (v) => Promise.resolve(v === 1 ? v1 : v2),
    peek: () => v2,
  };
}

/** N salts under key version 1, each with one retained version, as the service stores them. */
async function seed(db: Firestore, key: EncryptionKey): Promise<void> {
  await clearFirestore();
  await seedDueUsers(db, key, "rw", N);
  const now = new Date();
  for (let start = 0; start < N; start += PAGE) {
    const batch = db.batch();
    for (let i = start; i < start + PAGE; i++) {
      const id = `rw-${i}`;
      const created = planCreate("user", id, now, DEFAULT_POLICY);
      const retired = planRotate(created.record, now, DEFAULT_POLICY, 30, `seed-${i}`).retired;
      const enc = sealSalt(
        key,
        created.salt,
        saltAad(saltPlace("user", id, chains.salt("user", id, "seed")), 1),
      );
      const ref = db
        .collection(COLLECTIONS.user)
        .doc(encodeDocId(id))
        .collection(COLLECTIONS.versions)
        .doc("1");
      batch.set(ref, versionDocData(retired, enc, new Date(now.getTime() + 30 * 86_400_000)));
    }
    await batch.commit();
  }
}

/**
 * The baseline: the same reads (pages of salts holding an old key version, each salt's retained
 * versions) and the same document writes (every ciphertext field rewritten), as plain queries
 * and batch() commits of 500. No decryption or encryption, no transaction, no audit entries.
 */
async function rawReadWrite(db: Firestore): Promise<number> {
  const q = db
    .collection(COLLECTIONS.user)
    .where("key_versions", "array-contains-any", [1])
    .orderBy(FieldPath.documentId())
    .limit(PAGE);
  let after: QueryDocumentSnapshot | null = null;
  let done = 0;
  for (;;) {
    const page = await (after ? q.startAfter(after) : q).get();
    if (page.empty) return done;
    const versions = await Promise.all(page.docs.map((d) => d.ref.collection(COLLECTIONS.versions).get()));
    const writes = page.docs.flatMap((d, i) => [
      { ref: d.ref, data: { salt: d.get("salt") as unknown, key_versions: [2] } },
      ...versions[i]!.docs.map((v) => ({ ref: v.ref, data: { salt: v.get("salt") as unknown } })),
    ]);
    for (let s = 0; s < writes.length; s += 500) {
      const batch = db.batch();
      for (const w of writes.slice(s, s + 500)) batch.update(w.ref, w.data);
      await batch.commit();
    }
    done += page.size;
    after = page.docs.at(-1)!;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * startRewrap over N salts (and their retained versions) against the raw read and write of the same
 * documents, in BENCH_REWRAP_ROUNDS rounds (default 2) that alternate which side runs first, each side
 * on freshly seeded salts; the ratio is of the median times.
 */
export async function benchRewrap(db: Firestore): Promise<Record<string, number>> {
  if (!Number.isInteger(N) || N < PAGE || N % PAGE !== 0)
    throw new Error(`BENCH_REWRAP_SALTS: a multiple of ${PAGE}`);
  const rounds = Number(process.env.BENCH_REWRAP_ROUNDS ?? 2);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error("BENCH_REWRAP_ROUNDS: a positive integer");
  // Chunks commit in parallel at the default ROTATION_CONCURRENCY: each is one optimistic batch
  // commit (no transaction, no locks), so they no longer time each other out on the emulator.
  // BENCH_REWRAP_CONCURRENCY=n tries another level.
  let concurrency = Number(process.env.BENCH_REWRAP_CONCURRENCY ?? defaultConfig().concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error("BENCH_REWRAP_CONCURRENCY: a positive integer");
  header(
    `rewrap: ${N.toLocaleString("en")} salts with a retained version each, re-encrypted under a new key version, vs raw reads and writes of the same documents (Firestore emulator, ramp lifted, ${rounds} alternating rounds)`,
  );
  const v1 = { version: 1, bytes: randomBytes(32) };
  const ctx = { correlationId: "bench", actor: { uid: "bench", via: "cli" as const } };
  const timed = async (fn: () => Promise<void>) => {
    await seed(db, v1);
    const t0 = performance.now();
    await fn();
    return (performance.now() - t0) / 1000;
  };
  const raw = () =>
    timed(async () => {
      const found = await rawReadWrite(db);
      if (found !== N) throw new Error(`the raw pass found ${found} of ${N}`);
    });
  const jobAt = () =>
    timed(async () => {
      const rt = composeServices({
        config: testConfig({
          inlineLimit: 1_000_000,
          rampStartOps: 1_000_000,
          rampMaxOps: 1_000_000,
          concurrency,
        }),
        firestore: db,
        secrets: { ...runtimeSecrets({ key: v1.bytes.toString("hex") }), keys: rotatedKeys(v1) },
        inProcessTasks: true,
      });
      const out = await startRewrap(rt, ctx, { dry_run: false });
      if (out.rewrapped !== N) throw new Error(`rewrapped ${out.rewrapped} of ${N} (failed ${out.failed})`);
    });
  // Each chunk must commit within FIRESTORE_TIMEOUT_MS (20 s). On a 2-core machine that is busy
  // with other work, 16 chunks in flight against one emulator can exceed it (the emulator, not the
  // chunks, is the bottleneck): the run then says so and goes on at a quarter of the concurrency.
  const job = async (): Promise<number> => {
    for (;;) {
      try {
        return await jobAt();
      } catch (e) {
        if (!isStorageFault(e) || concurrency === 1) throw e;
        const load = loadavg()[0]!.toFixed(1);
        console.log(
          `ROTATION_CONCURRENCY=${concurrency}: a chunk exceeded the storage deadline (${(e as { code?: string }).code}; load average ${load}); again at ${Math.max(1, concurrency >> 2)}`,
        );
        concurrency = Math.max(1, concurrency >> 2);
      }
    }
  };
  const rawTimes: number[] = [];
  const jobTimes: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      rawTimes.push(await raw());
      jobTimes.push(await job());
    } else {
      jobTimes.push(await job());
      rawTimes.push(await raw());
    }
    console.log(`round ${r + 1}: ratio ${(rawTimes[r]! / jobTimes[r]!).toFixed(2)}`);
  }
  const rate = (s: number) => `${Math.round(N / s).toLocaleString("en")} salts/s (${s.toFixed(1)} s)`;
  const [rawSeconds, jobSeconds] = [median(rawTimes), median(jobTimes)];
  console.log(
    `startRewrap, ROTATION_CONCURRENCY=${concurrency} (count, list, one commit per chunk, re-encrypt, audit): ${rate(jobSeconds)}`,
  );
  console.log(`raw queries + batch() writes of the same documents:               ${rate(rawSeconds)}`);
  console.log(`ratio: ${(rawSeconds / jobSeconds).toFixed(2)} (goal >= 0.8)`);
  await clearFirestore();
  return {
    rewrap_salts_per_s: N / jobSeconds,
    raw_salts_per_s: N / rawSeconds,
    ratio: rawSeconds / jobSeconds,
  };
}
