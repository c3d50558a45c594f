// The browser lane: the console in Debian's Chromium (playwright-core, no browser download) against
// the whole local stack (Firestore, Auth, Functions, Cloud Tasks and Hosting emulators).
// Installs Chromium from Debian when it is missing (CI runs as root on a fresh machine).
// Never skips: anything that keeps the lane from running fails it, and says why in the last lines.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./emulators.mjs";

const TMP = path.join(ROOT, ".tmp");
const ERROR_FILE = path.join(TMP, "browser-lane.error");
const REPORT = path.join(TMP, "browser.json");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const LAUNCH_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

mkdirSync(TMP, { recursive: true });
rmSync(ERROR_FILE, { force: true });

function fail(why) {
  writeFileSync(ERROR_FILE, why);
  console.error(`\n!!! BROWSER LANE FAILED: ${why}\n`);
  process.exit(4);
}

function sh(cmd, args, timeoutMs) {
  console.log(`[browser-lane] $ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, {
    stdio: "inherit",
    timeout: timeoutMs,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return r.status === 0;
}

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  if (process.env.CHROMIUM_PATH) fail(`CHROMIUM_PATH=${CHROMIUM} does not exist.`);
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const prefix = root ? [] : ["sudo", "-n"];
  if (!root && spawnSync("sudo", ["-n", "true"]).status !== 0) {
    fail(
      `Chromium is not installed at ${CHROMIUM} and this user cannot install it (not root, no passwordless sudo). ` +
        "Install it with `sudo apt-get install -y chromium`, or point CHROMIUM_PATH at a Chromium binary.",
    );
  }
  console.log("[browser-lane] Chromium is missing: installing Debian's package");
  const run = (args) =>
    prefix.length
      ? sh(prefix[0], [...prefix.slice(1), ...args], 600_000)
      : sh(args[0], args.slice(1), 600_000);
  if (!run(["apt-get", "update"]) || !run(["apt-get", "install", "-y", "chromium"]))
    fail("`apt-get install -y chromium` failed (see the apt output above).");
  if (!existsSync(CHROMIUM)) fail(`apt-get installed chromium, but ${CHROMIUM} still does not exist.`);
}

async function checkLaunch() {
  const { chromium } = await import("playwright-core");
  try {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, timeout: 60_000 });
    const version = browser.version();
    await browser.close();
    console.log(`[browser-lane] Chromium ${version} launches`);
  } catch (e) {
    fail(`Chromium at ${CHROMIUM} does not launch: ${String(e.message ?? e).split("\n")[0]}`);
  }
}

ensureChromium();
await checkLaunch();
if (!existsSync(path.join(ROOT, "console/dist/index.html")))
  fail("the console is not built (console/dist/index.html is missing): run `npm run build` first.");

rmSync(REPORT, { force: true });
const vitest = path.join(ROOT, "node_modules/.bin/vitest");
const child = spawn(
  "node",
  [
    "scripts/with-emulators.mjs",
    "node",
    "scripts/console-hosting.mjs",
    vitest,
    "run",
    "--project",
    "browser",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${REPORT}`,
  ],
  { cwd: ROOT, stdio: "inherit", env: { ...process.env, CHROMIUM_PATH: CHROMIUM } },
);
const code = await new Promise((resolve) => child.once("exit", (c, s) => resolve(c ?? (s ? 1 : 0))));
if (code !== 0 && !existsSync(REPORT))
  fail(`the browser tests did not run to the end (exit ${code}); see the output above.`);
console.log(`[browser-lane] screenshots in ${path.relative(ROOT, path.join(TMP, "screenshots"))}/`);
process.exit(code);
