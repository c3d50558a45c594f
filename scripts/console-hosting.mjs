// Serves the built console (console/dist) through the Firebase Hosting emulator, next to the
// backend emulators: it writes console/dist/local-emulators.json (where the console finds the
// Auth and Functions emulators; never deployed) and a hosting config whose CSP also allows them.
//
// As a module: startConsoleHosting({auth, functions}) -> {url, stop}.
// As a command: `node scripts/console-hosting.mjs <cmd...>` runs cmd with CONSOLE_URL set, using the
// emulators named by FIREBASE_AUTH_EMULATOR_HOST and FUNCTIONS_EMULATOR_HOST (scripts/with-emulators.mjs).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pickPort, PROJECT_ID, ROOT, waitFor } from "./emulators.mjs";
import { hostingFor, projectOrigins } from "./lib/csp.mjs";

const DIST = path.join(ROOT, "console/dist");
const CONFIG = path.join(ROOT, "firebase.console.local.json");
const log = (msg) => process.stderr.write(`[console] ${msg}\n`);

/** Hosting config for the emulator: the demo project's, with the emulator origins added to the CSP. */
export function localHosting(hosting, { auth, functions }) {
  const local = hostingFor(hosting, projectOrigins({ project: PROJECT_ID }));
  for (const rule of local.headers ?? []) {
    for (const h of rule.headers) {
      if (h.key !== "Content-Security-Policy") continue;
      h.value = h.value.replace(
        /connect-src ([^;]*)/,
        (_m, list) => `connect-src ${list} http://${auth} http://${functions}`,
      );
      // The Auth emulator's own handler frame, for Google sign-in against the emulator.
      h.value = h.value.replace(/frame-src ([^;]*)/, (_m, list) => `frame-src ${list} http://${auth}`);
      // Hosting locally is plain http: drop HSTS-like upgrades if ever added to the CSP.
      h.value = h.value.replace(/;\s*upgrade-insecure-requests/, "");
    }
  }
  return local;
}

let child = null;

export async function stopConsoleHosting() {
  const c = child;
  child = null;
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, "SIGTERM");
  } catch {
    return;
  }
  const ended = await Promise.race([
    new Promise((r) => c.once("exit", () => r(true))),
    new Promise((r) => setTimeout(() => r(false), 10_000)),
  ]);
  if (!ended) {
    try {
      process.kill(-c.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

process.on("exit", () => {
  if (child && child.exitCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** Starts the Hosting emulator on a free port for the given Auth and Functions emulator hosts. */
export async function startConsoleHosting({
  auth,
  functions,
  // The Google popup loads Google's sign-in helper from the internet, even against the Auth emulator.
  googleSignIn = process.env.CONSOLE_GOOGLE_SIGN_IN === "true",
}) {
  if (!existsSync(path.join(DIST, "index.html"))) {
    throw new Error(
      "The console is not built (console/dist/index.html is missing): run `npm run build` first.",
    );
  }
  const [fnHost, fnPort] = functions.split(":");
  writeFileSync(
    path.join(DIST, "local-emulators.json"),
    JSON.stringify(
      { auth: `http://${auth}`, functions: { host: fnHost, port: Number(fnPort) }, googleSignIn },
      null,
      2,
    ),
  );
  const base = JSON.parse(readFileSync(path.join(ROOT, "firebase.json"), "utf8"));
  const port = await pickPort(base.emulators?.hosting?.port ?? 5000);
  // Its own hub and logging ports: the backend emulators run in another firebase-tools process.
  const hub = await pickPort(4410);
  const logging = await pickPort(4510);
  const config = {
    hosting: localHosting(base.hosting, { auth, functions }),
    emulators: {
      hosting: { host: "127.0.0.1", port },
      hub: { host: "127.0.0.1", port: hub },
      logging: { host: "127.0.0.1", port: logging },
      ui: { enabled: false },
      singleProjectMode: true,
    },
  };
  writeFileSync(CONFIG, JSON.stringify(config, null, 2));
  mkdirSync(path.join(ROOT, ".tmp"), { recursive: true });
  const out = openSync(path.join(ROOT, ".tmp/hosting.log"), "w");
  log(`starting the Hosting emulator on 127.0.0.1:${port}`);
  child = spawn(
    path.join(ROOT, "node_modules/.bin/firebase"),
    ["emulators:start", "--only", "hosting", "--project", PROJECT_ID, "--config", CONFIG],
    { cwd: ROOT, detached: true, stdio: ["ignore", out, out] },
  );
  const exited = new Promise((_, reject) =>
    child.once("exit", (code) =>
      reject(new Error(`the Hosting emulator exited (code ${code}); see .tmp/hosting.log`)),
    ),
  );
  exited.catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    exited,
    waitFor(`${url}/__/firebase/init.json`, {
      what: "the Hosting emulator",
      timeoutMs: 120_000,
      ok: (r) => r.ok,
    }),
  ]);
  return { url, stop: stopConsoleHosting };
}

/** The lines the local stack prints about the console. */
export function consoleBanner(url, users) {
  return [
    `  Console              ${url}/`,
    ...Object.entries(users).map(
      ([role, u]) => `    sign in as ${role.padEnd(8)} ${u.email} / ${u.password}`,
    ),
  ].join("\n");
}

export function removeLocalEmulatorsFile() {
  rmSync(path.join(DIST, "local-emulators.json"), { force: true });
}

// Command mode.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const command = process.argv.slice(2);
  const auth = process.env.FIREBASE_AUTH_EMULATOR_HOST;
  const functions = process.env.FUNCTIONS_EMULATOR_HOST;
  if (command.length === 0 || !auth || !functions) {
    console.error(
      "usage: FIREBASE_AUTH_EMULATOR_HOST=… FUNCTIONS_EMULATOR_HOST=… node scripts/console-hosting.mjs <command...>\n" +
        "(run it through scripts/with-emulators.mjs, which sets both)",
    );
    process.exit(2);
  }
  let code = 1;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => void stopConsoleHosting().finally(() => process.exit(130)));
  }
  try {
    const { url } = await startConsoleHosting({ auth, functions });
    log(`console at ${url}/`);
    const run = spawn(command[0], command.slice(1), {
      cwd: ROOT,
      stdio: "inherit",
      env: { ...process.env, CONSOLE_URL: url },
    });
    code = await new Promise((resolve) => run.once("exit", (c, s) => resolve(c ?? (s ? 1 : 0))));
  } catch (e) {
    console.error(`\n${e.message}\n`);
  } finally {
    await stopConsoleHosting();
    removeLocalEmulatorsFile();
  }
  process.exit(code);
}
