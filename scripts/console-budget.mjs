// Console budgets, measured: JS shipped (gzipped) < 200 kB, and the overview usable in < 1 s on the
// local stack (from navigation until the status numbers are on screen, signed in, warm emulators).
// `node scripts/console-budget.mjs` builds the console, starts the local stack with Hosting, measures,
// prints a report (also .tmp/console-budget.json) and exits non-zero when a budget is exceeded.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync, brotliCompressSync } from "node:zlib";
import { PROJECT_ID, ROOT } from "./emulators.mjs";
import { callFunction, ensureDemoUser, signIn } from "./stack-client.mjs";

const JS_BUDGET = 200 * 1024;
const USABLE_BUDGET_MS = 1000;
const RUNS = 7;
const ASSETS = path.join(ROOT, "console/dist/assets");

function sizes() {
  const files = readdirSync(ASSETS).filter((f) => f.endsWith(".js") || f.endsWith(".css"));
  return files.map((f) => {
    const buf = readFileSync(path.join(ASSETS, f));
    return {
      file: f,
      raw: buf.length,
      gzip: gzipSync(buf, { level: 9 }).length,
      brotli: brotliCompressSync(buf).length,
    };
  });
}

async function measure(url) {
  const { chromium } = await import("playwright-core");
  const state = {
    projectId: PROJECT_ID,
    auth: process.env.FIREBASE_AUTH_EMULATOR_HOST,
    functions: process.env.FUNCTIONS_EMULATOR_HOST,
  };
  const user = {
    uid: "budget-admin",
    email: "budget-admin@demo.test",
    password: "budget-admin-password",
    claims: { admin: true },
  };
  await ensureDemoUser(state, user);
  const token = await signIn(state, user);
  for (const id of ["alice", "bob", "carol"])
    await callFunction(state, "rotateUser", { user_id: id, force: true }, token);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${url}/`);
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password").fill(user.password);
    const t0 = Date.now();
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByTestId("users-total").waitFor({ timeout: 60_000 });
    const firstSignIn = Date.now() - t0;
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const start = Date.now();
      await page.goto(`${url}/overview`);
      await page.getByTestId("users-total").waitFor({ timeout: 60_000 });
      const wall = Date.now() - start;
      // The browser's own clock: from navigation start to the numbers being in the DOM.
      const nav = await page.evaluate(() => Math.round(globalThis.performance.now()));
      runs.push({ wall, nav });
    }
    return { firstSignIn, runs };
  } finally {
    await browser.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;

if (!process.argv.includes("--measure")) {
  // Build, then run this script again inside the local stack with the console on Hosting.
  const build = spawnSync("npm", ["run", "build:console"], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const child = spawn(
    "node",
    [
      "scripts/with-emulators.mjs",
      "node",
      "scripts/console-hosting.mjs",
      "node",
      "scripts/console-budget.mjs",
      "--measure",
    ],
    { cwd: ROOT, stdio: "inherit" },
  );
  child.once("exit", (c, s) => process.exit(c ?? (s ? 1 : 0)));
} else {
  const assets = sizes();
  const js = assets.filter((a) => a.file.endsWith(".js"));
  const jsGzip = js.reduce((s, a) => s + a.gzip, 0);
  const timing = await measure(process.env.CONSOLE_URL);
  const usable = median(timing.runs.map((r) => r.nav));
  const report = {
    measured_at: new Date().toISOString(),
    assets,
    js_gzip_bytes: jsGzip,
    js_budget_bytes: JS_BUDGET,
    overview_usable_ms: { median: usable, runs: timing.runs, first_sign_in_ms: timing.firstSignIn },
    usable_budget_ms: USABLE_BUDGET_MS,
  };
  mkdirSync(path.join(ROOT, ".tmp"), { recursive: true });
  writeFileSync(path.join(ROOT, ".tmp/console-budget.json"), JSON.stringify(report, null, 2));
  console.log("\n=== console budgets ===");
  for (const a of assets)
    console.log(
      `  ${a.file.padEnd(28)} ${kb(a.raw).padStart(9)} raw ${kb(a.gzip).padStart(9)} gzip ${kb(a.brotli).padStart(9)} brotli`,
    );
  const jsOk = jsGzip < JS_BUDGET;
  const usableOk = usable < USABLE_BUDGET_MS;
  console.log(`${jsOk ? "PASS" : "FAIL"}  JS shipped: ${kb(jsGzip)} gzipped (budget ${kb(JS_BUDGET)})`);
  console.log(
    `${usableOk ? "PASS" : "FAIL"}  overview usable: median ${usable} ms from navigation start (budget ${USABLE_BUDGET_MS} ms); ` +
      `runs ${timing.runs.map((r) => r.nav).join(", ")} ms; first sign-in to numbers ${timing.firstSignIn} ms`,
  );
  process.exit(jsOk && usableOk ? 0 : 1);
}
