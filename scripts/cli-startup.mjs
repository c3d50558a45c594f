// How fast the built CLI starts: runs `salts --help` and `salts status` (through the callable, as a
// signed-in auditor, against the emulators) N times each and prints median and p95 wall times.
//   npm run build && node scripts/with-emulators.mjs node scripts/cli-startup.mjs [N]
// Objectives (issue 14): --help < 300 ms, status < 800 ms. Exits 1 when a median misses one.
// `salts --direct status` is measured too, for information (it loads firebase-admin in-process).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT } from "./emulators.mjs";
import { DEMO_USERS, ensureDemoUser } from "./stack-client.mjs";

const CLI = path.join(ROOT, "lib/cli/main.js");
const runs = Number(process.argv[2] ?? 20);
if (!existsSync(CLI)) {
  console.error("lib/cli/main.js is missing: run `npm run build` first");
  process.exit(2);
}

const config = mkdtempSync(path.join(tmpdir(), "salts-startup-"));
const env = { ...process.env, XDG_CONFIG_HOME: config, NO_COLOR: "1" };

/** One process run: `node <argv>`. */
function once(argv, input) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { env, input, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`node ${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function measure(label, argv, objectiveMs, extraEnv = {}) {
  Object.assign(env, extraEnv);
  once(argv); // warm the file cache; not counted
  const times = Array.from({ length: runs }, () => once(argv)).sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
  const row = {
    command: label,
    runs,
    median_ms: +at(0.5).toFixed(1),
    p95_ms: +at(0.95).toFixed(1),
    objective_ms: objectiveMs,
  };
  console.log(JSON.stringify(row));
  return row.median_ms <= objectiveMs;
}

// The baseline: a Node process that does nothing, on the same machine at the same moment.
measure("node -e 0 (baseline)", ["-e", "0"], Infinity);
let ok = measure("salts --help", [CLI, "--help"], 300);
if (process.env.FUNCTIONS_EMULATOR_HOST && process.env.FIREBASE_AUTH_EMULATOR_HOST) {
  const user = DEMO_USERS.auditor;
  const state = {
    auth: process.env.FIREBASE_AUTH_EMULATOR_HOST,
    projectId: process.env.GCLOUD_PROJECT || "demo-salts",
  };
  await ensureDemoUser(state, user);
  once([CLI, "login", "--email", user.email, "--password-stdin"], user.password);
  ok = measure("salts status (callable, emulator)", [CLI, "status"], 800) && ok;
  // Break-glass mode loads firebase-admin, the service and the Secret Manager client in-process
  // (secrets from the local Secret Manager server the emulator script started): informational.
  const direct = { SALT_BACKEND: "firestore" };
  measure("salts --direct status (emulator)", [CLI, "--direct", "status"], Infinity, direct);
} else {
  console.log("status not measured: run through scripts/with-emulators.mjs so the emulators are up");
}
rmSync(config, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
