// Runs every test lane and ends with a summary that says which lanes ran, which failed,
// and (loudly, in the last lines) which could not run and why.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { firestorePlan, pubsubPlan, ROOT } from "./emulators.mjs";
import { logFile } from "./lib/processes.mjs";

const TMP = path.join(ROOT, ".tmp");
mkdirSync(TMP, { recursive: true });
const vitest = path.join(ROOT, "node_modules/.bin/vitest");

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: "inherit", env: { ...process.env, ...env } });
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function counts(file) {
  if (!existsSync(file)) return null;
  const r = JSON.parse(readFileSync(file, "utf8"));
  // The names and first lines of what failed, so that the summary at the end of the log (often all a CI
  // page keeps) says which test it was and why.
  const failures = [];
  for (const f of r.testResults ?? []) {
    const file = path.relative(ROOT, f.name ?? "");
    const failedTests = (f.assertionResults ?? []).filter((a) => a.status === "failed");
    for (const a of failedTests)
      failures.push({
        where: `${file} > ${a.fullName ?? a.title}`,
        why: a.failureMessages?.join("\n") ?? "",
      });
    if (failedTests.length === 0 && f.status === "failed")
      failures.push({ where: file, why: f.message ?? "the file failed outside any test" });
  }
  return {
    failures,
    passed: r.numPassedTests,
    failed: r.numFailedTests,
    skipped: r.numPendingTests + r.numTodoTests,
    files: r.numTotalTestSuites,
  };
}

/** A Node binary of `major` from the npm registry (node-<platform>-<arch>), cached under .tmp. */
async function nodeBinary(major) {
  if (process.versions.node.split(".")[0] === String(major)) return { path: process.execPath };
  const pkg = `node-${process.platform}-${process.arch}`;
  const prefix = path.join(TMP, `node${major}`);
  const bin = path.join(prefix, "node_modules", pkg, "bin", "node");
  if (!existsSync(bin)) {
    const code = await run("npm", [
      "install",
      "--no-save",
      "--no-audit",
      "--no-fund",
      "--prefix",
      prefix,
      `${pkg}@${major}`,
    ]);
    if (code !== 0 || !existsSync(bin))
      return { why: `could not install ${pkg}@${major} from the npm registry` };
  }
  return { path: bin };
}

/**
 * When the emulator lane fails: what the functions said about calls that failed for a reason other than the
 * caller's input (their log lines, kept from .tmp/firebase.log before the browser lane's stack rewrites it, and
 * the whole log copied to .tmp/emulator-lane-firebase.log), so that a failure seen only on CI can be read
 * from its summary.
 */
function functionsFaults() {
  const log = logFile("firebase");
  if (!existsSync(log)) return [];
  copyFileSync(log, path.join(TMP, "emulator-lane-firebase.log"));
  const fault =
    /"severity":"(ERROR|CRITICAL|ALERT|EMERGENCY)"|"code":"(unavailable|internal|unknown|deadline-exceeded|data-loss)"/;
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => fault.test(line))
    .slice(-15)
    .map((line) => line.trim().slice(0, 400));
}

const lanes = [];
async function lane(name, cmd, args, report) {
  // A lane that dies before writing its report must not be read as an earlier run's.
  rmSync(report, { force: true });
  console.log(`\n=== lane: ${name} ===\n`);
  const code = await run(cmd, args);
  lanes.push({ name, ran: true, code, counts: counts(report) });
}

const vitestArgs = (project, report) => [
  "run",
  "--project",
  project,
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
];

await lane(
  "unit (memory backend, domain, library)",
  vitest,
  vitestArgs("unit", path.join(TMP, "unit.json")),
  path.join(TMP, "unit.json"),
);

// The deploy runtime is Node 22: the unit lane runs there too, on a Node 22 binary from the npm registry.
const node22 = await nodeBinary(22);
if (node22.path) {
  await lane(
    "unit on Node 22 (the Cloud Functions runtime)",
    node22.path,
    [path.join(ROOT, "node_modules/vitest/vitest.mjs"), ...vitestArgs("unit", path.join(TMP, "unit22.json"))],
    path.join(TMP, "unit22.json"),
  );
} else {
  lanes.push({ name: "unit on Node 22", ran: false, why: node22.why, fatal: true });
}

const plan = firestorePlan();
const emulatorLane = "emulator (Firestore, Auth, Functions, Cloud Tasks, Pub/Sub emulators)";
if (plan.kind === "missing") {
  lanes.push({ name: emulatorLane, ran: false, why: plan.why });
} else {
  // Events are tested against the Pub/Sub emulator: without one that file cannot run, and the summary says so.
  const pubsub = pubsubPlan();
  const eventsFile = "test/emulator/events.e2e.test.ts";
  const without = pubsub.kind === "missing" ? ["--exclude", eventsFile] : [];
  const report = path.join(TMP, "emulator.json");
  await lane(
    emulatorLane,
    "node",
    ["scripts/with-emulators.mjs", "--test-hooks", vitest, ...vitestArgs("emulator", report), ...without],
    report,
  );
  if (lanes.at(-1).code !== 0) lanes.at(-1).serverLines = functionsFaults();
  if (pubsub.kind === "missing")
    lanes.push({
      name: `events on Pub/Sub (${eventsFile}, in the emulator lane)`,
      ran: false,
      why: pubsub.why,
    });
}

const browserLane = "browser (console in Chromium against the local stack with Hosting)";
if (plan.kind === "missing") {
  lanes.push({ name: browserLane, ran: false, why: plan.why });
} else {
  // Fails (never skips) when Chromium cannot be installed or launched; see scripts/console-browser-lane.mjs.
  await lane(browserLane, "node", ["scripts/console-browser-lane.mjs"], path.join(TMP, "browser.json"));
  const why = path.join(TMP, "browser-lane.error");
  if (existsSync(why)) lanes.at(-1).why = readFileSync(why, "utf8");
}

let passed = 0;
let failed = 0;
let skipped = 0;
let bad = false;
console.log("\n=== summary ===");
for (const l of lanes) {
  if (!l.ran) continue;
  const c = l.counts;
  if (c) {
    passed += c.passed;
    failed += c.failed;
    skipped += c.skipped;
  }
  const ok = l.code === 0 && c && c.failed === 0 && c.skipped === 0 && c.passed > 0;
  if (!ok) bad = true;
  console.log(
    `${ok ? "PASS" : "FAIL"}  ${l.name}: ${c ? `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped` : "no report"} (exit ${l.code})`,
  );
}
for (const l of lanes.filter((x) => x.counts?.failures.length)) {
  console.log(`\n--- failed in ${l.name} ---`);
  for (const f of l.counts.failures) {
    console.log(`x ${f.where}`);
    const lines = f.why
      .split("\n")
      .filter((line) => line.trim() !== "" && !/node_modules|new Promise|node:internal/.test(line));
    for (const line of lines.slice(0, 12)) console.log(`    ${line.slice(0, 300)}`);
  }
}
for (const l of lanes.filter((x) => x.serverLines?.length)) {
  console.log(
    `\n--- the functions' last lines about faults, in ${l.name} (whole log: .tmp/emulator-lane-firebase.log) ---`,
  );
  for (const line of l.serverLines) console.log(`    ${line}`);
}
const notRun = lanes.filter((l) => !l.ran);
for (const l of lanes.filter((x) => x.ran && x.why)) {
  console.log(`\n!!! LANE FAILED: ${l.name}\n!!! why: ${l.why}`);
}
for (const l of notRun) {
  if (l.fatal) bad = true;
  console.log(`\n!!! LANE NOT RUN: ${l.name}\n!!! why: ${l.why}`);
}
if (skipped > 0)
  console.log(`\n!!! ${skipped} test(s) were skipped: a skipped test does not count as passing.`);
console.log(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
if (notRun.length > 0) {
  console.log(`NOT RUN: ${notRun.map((l) => l.name).join("; ")} (see the reason above)`);
}
process.exit(bad ? 1 : 0);
