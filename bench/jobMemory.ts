// Child process, in two steps so the job's process starts without the seeding's garbage:
//   jobMemory.ts <n> seed   clears Firestore and seeds N due user salts under BENCH_MEM_KEY (hex)
//   jobMemory.ts <n>        runs one inline rotation job over them and reports RSS before the job and at
//                           its peak, so the job's own memory growth is measured in isolation, and the
//                           heap in use after each full collection V8 made (what the job holds).
// The heap is whatever the process was started with: batch.ts starts it as on a function instance.
import { randomBytes } from "node:crypto";
import { constants, PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { clearFirestore } from "../test/support/firestore";
import { firestoreRuntime } from "../test/support/runtimes";
import { startRotateDue } from "../functions/usecases/jobs/rotation";
import { seedDueUsers } from "./seedDue";

async function main(): Promise<void> {
  const n = Number(process.argv[2]);
  const app = getApps()[0] ?? initializeApp({ projectId: process.env.GCLOUD_PROJECT ?? "demo-salts" });
  const db = getFirestore(app);
  const key = process.env.BENCH_MEM_KEY ? Buffer.from(process.env.BENCH_MEM_KEY, "hex") : randomBytes(32);
  if (process.argv[3] === "seed" || !process.env.BENCH_MEM_KEY) {
    await clearFirestore();
    await seedDueUsers(db, { version: 1, bytes: key }, `mem-${n}`, n);
    if (process.argv[3] === "seed") process.exit(0);
  }
  // The client's channel is open before the baseline is taken.
  await db.collection("salts_user").limit(1).get();
  const rt = firestoreRuntime({
    key: key.toString("base64"),
    firestore: db,
    config: {
      inlineLimit: 1_000_000,
      rampStartOps: 1_000_000,
      rampMaxOps: 1_000_000,
      // Counting 100k documents takes the emulator longer than production's deadline.
      firestoreTimeoutMs: 120_000,
      ...(process.env.BENCH_CONC ? { concurrency: Number(process.env.BENCH_CONC) } : {}),
      ...(process.env.BENCH_PAGE_SIZE ? { pageSize: Number(process.env.BENCH_PAGE_SIZE) } : {}),
    },
  });
  (globalThis as { gc?: () => void }).gc?.();
  const m0 = process.memoryUsage();
  const before = m0.rss;
  let peak = before;
  let heapPeak = m0.heapTotal;
  let externalPeak = m0.external;
  // BENCH_SPACES=1: also the peak size of each V8 heap space, on stderr (diagnosis only).
  const spaces = process.env.BENCH_SPACES ? new Map<string, number>() : null;
  const timer = setInterval(() => {
    if (spaces)
      for (const sp of getHeapSpaceStatistics())
        spaces.set(sp.space_name, Math.max(spaces.get(sp.space_name) ?? 0, sp.space_size / 2 ** 20));
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapTotal);
    externalPeak = Math.max(externalPeak, m.external);
  }, 20);
  // What the job holds: the heap in use just after each full collection V8 chose to make (none is forced).
  let livePeak = 0;
  let fullCount = 0;
  const fullCollections = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as { detail?: { kind?: number } }).detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR)
        continue;
      fullCount++;
      livePeak = Math.max(livePeak, process.memoryUsage().heapUsed - m0.heapUsed);
    }
  });
  fullCollections.observe({ entryTypes: ["gc"] });
  const t = performance.now();
  const out = await startRotateDue(
    rt,
    { correlationId: "bench-mem", actor: { uid: "bench", via: "cli" } },
    {
      kind: "user",
      dry_run: false,
    },
  );
  const seconds = (performance.now() - t) / 1000;
  clearInterval(timer);
  fullCollections.disconnect();
  peak = Math.max(peak, process.memoryUsage().rss);
  if (spaces) process.stderr.write(`${JSON.stringify(Object.fromEntries(spaces))}\n`);
  process.stdout.write(
    `${JSON.stringify({ n, rotated: out.rotated, failed: out.failed, seconds, rss_before_mb: before / 2 ** 20, rss_peak_mb: peak / 2 ** 20, live_heap_growth_mb: fullCount > 0 ? livePeak / 2 ** 20 : null, full_collections: fullCount, heap_limit_mb: getHeapStatistics().heap_size_limit / 2 ** 20, heap_before_mb: m0.heapUsed / 2 ** 20, heap_total_growth_mb: (heapPeak - m0.heapTotal) / 2 ** 20, external_growth_mb: (externalPeak - m0.external) / 2 ** 20 })}\n`,
  );
  process.exit(0);
}
void main();
