// Child process: seeds N due user salts, runs one inline rotation job over them, and reports
// RSS before the job and at its peak, so the job's own memory growth is measured in isolation.
import { randomBytes } from "node:crypto";
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
  const key = randomBytes(32);
  await clearFirestore();
  await seedDueUsers(db, { version: 1, bytes: key }, `mem-${n}`, n);
  const rt = firestoreRuntime({
    key: key.toString("base64"),
    firestore: db,
    config: { inlineLimit: 1_000_000, rampStartOps: 1_000_000, rampMaxOps: 1_000_000 },
  });
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
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
  peak = Math.max(peak, process.memoryUsage().rss);
  process.stdout.write(
    `${JSON.stringify({ n, rotated: out.rotated, failed: out.failed, seconds, rss_before_mb: before / 2 ** 20, rss_peak_mb: peak / 2 ** 20 })}\n`,
  );
  process.exit(0);
}
void main();
