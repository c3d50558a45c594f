// npm run bench [-- section...]   sections: see SECTIONS (default: all)
// Runs against the emulators started by scripts/with-emulators.mjs; prints ratios against baselines run here.
import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { benchPseudonymizeCpu } from "./pseudonymize";
import { benchAnalyticsBatch, benchRotate } from "./engine";
import { benchHttp } from "./http";
import { benchJob, benchJobMemory } from "./batch";
import { benchContention } from "./contention";
import { benchContentionHttp } from "./contentionHttp";
import { benchRewrap } from "./rewrap";
import { benchAuth } from "./auth";
import { benchBigquery } from "./bigquery";
import { benchColdStart } from "./coldstart";

async function main(): Promise<void> {
  const all = [
    "pseudonymize",
    "engine",
    "analytics",
    "http",
    "contention",
    "job",
    "memory",
    "rewrap",
    "auth",
    "batch",
    "bigquery",
    "coldstart",
  ];
  const wanted = process.argv.slice(2).filter((a) => all.includes(a));
  const sections = wanted.length > 0 ? wanted : all.filter((s) => s !== "batch");
  // `batch` is the job's throughput and its memory together.
  if (sections.includes("batch")) sections.push("job", "memory");
  if (!process.env.FIRESTORE_EMULATOR_HOST)
    throw new Error("run through `npm run bench` (it starts the emulators)");
  const app = getApps()[0] ?? initializeApp({ projectId: process.env.GCLOUD_PROJECT ?? "demo-salts" });
  const db = getFirestore(app);
  console.log(`# salt service benchmark (${new Date().toISOString()}, node ${process.version})`);
  if (sections.includes("pseudonymize")) await benchPseudonymizeCpu();
  if (sections.includes("engine")) await benchRotate(db);
  if (sections.includes("analytics")) await benchAnalyticsBatch(db);
  if (sections.includes("http")) await benchHttp();
  if (sections.includes("contention")) {
    await benchContention(db);
    await benchContentionHttp(db);
  }
  if (sections.includes("auth")) await benchAuth();
  if (sections.includes("job")) await benchJob(db);
  if (sections.includes("rewrap")) await benchRewrap(db);
  if (sections.includes("memory")) benchJobMemory();
  if (sections.includes("bigquery")) await benchBigquery();
  if (sections.includes("coldstart")) await benchColdStart();
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
