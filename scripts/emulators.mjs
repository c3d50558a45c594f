// Starts and stops the local emulators the project needs, owning every process it starts.
// Firestore: an emulator already running (FIRESTORE_EMULATOR_HOST), else the Google Cloud CLI's
// emulator found on this machine (run on Java directly, in its own process group), else
// firebase-tools' own when Java is 21 or newer, else a clear message of what to install.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const PROJECT_ID = process.env.GCLOUD_PROJECT || "demo-salts";
const TMP = path.join(ROOT, ".tmp");
const owned = [];

const log = (msg) => process.stderr.write(`[emulators] ${msg}\n`);

export class MissingEmulatorError extends Error {
  name = "MissingEmulatorError";
}

function portFree(port, host = "127.0.0.1") {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

async function anyFreePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The preferred port when free, otherwise one the OS hands out. */
export async function pickPort(preferred) {
  return (await portFree(preferred)) ? preferred : anyFreePort();
}

export async function waitFor(
  url,
  { timeoutMs = 60_000, what = url, ok = (r) => r.status < 500, init = {} } = {},
) {
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
      if (ok(res)) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.cause?.code ?? e.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not answer at ${url} within ${timeoutMs} ms (${last})`);
}

function findGcloudFirestoreJar() {
  const roots = new Set();
  try {
    const sdk = execFileSync("gcloud", ["info", "--format=value(installation.sdk_root)"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 20_000,
    }).trim();
    if (sdk) roots.add(sdk);
  } catch {
    // no gcloud on PATH: try the usual install places below
  }
  for (const r of ["/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/opt/google-cloud-sdk"])
    roots.add(r);
  for (const root of roots) {
    const jar = path.join(root, "platform/cloud-firestore-emulator/cloud-firestore-emulator.jar");
    if (existsSync(jar)) return jar;
  }
  return null;
}

export function javaMajor() {
  // `java -version` prints to stderr.
  const res = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (res.error) return null;
  return parseJava(`${res.stderr}${res.stdout}`);
}

function parseJava(text) {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  return m[1] === "1" ? Number(m[2]) : Number(m[1]);
}

function spawnOwned(name, command, args, env = process.env) {
  mkdirSync(TMP, { recursive: true });
  const out = openSync(path.join(TMP, `${name}.log`), "w");
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ["ignore", out, out] });
  owned.push({ name, child });
  child.once("exit", (code, signal) => {
    child.exitedWith = { code, signal };
  });
  return child;
}

/** How Firestore will be provided, without starting anything. */
export function firestorePlan() {
  if (process.env.FIRESTORE_EMULATOR_HOST)
    return { kind: "running", host: process.env.FIRESTORE_EMULATOR_HOST };
  const jar = findGcloudFirestoreJar();
  const java = javaMajor();
  if (jar && java) return { kind: "gcloud", jar };
  if (java && java >= 21) return { kind: "firebase-tools" };
  return {
    kind: "missing",
    why:
      (jar
        ? "the Google Cloud CLI's Firestore emulator is installed but no Java runtime was found. "
        : "no Firestore emulator found: ") +
      "install the Google Cloud CLI with its Firestore emulator (`gcloud components install cloud-firestore-emulator`, " +
      "or the Debian package google-cloud-cli-firestore-emulator) and a Java runtime (11+), or Java 21+ so firebase-tools can run its own, " +
      "or start one yourself and export FIRESTORE_EMULATOR_HOST=host:port.",
  };
}

/** Ensures a Firestore emulator answers; returns its host:port and whether firebase-tools must start it. */
export async function ensureFirestore() {
  const plan = firestorePlan();
  if (plan.kind === "running") {
    await waitFor(`http://${plan.host}/`, {
      what: "the Firestore emulator in FIRESTORE_EMULATOR_HOST",
      timeoutMs: 15_000,
    });
    log(`using the Firestore emulator already running at ${plan.host}`);
    return { host: plan.host, viaFirebaseTools: false };
  }
  if (plan.kind === "gcloud") {
    const port = await pickPort(8080);
    const host = `127.0.0.1:${port}`;
    log(`starting the Google Cloud CLI Firestore emulator on ${host}`);
    const child = spawnOwned("firestore", "java", [
      "-Duser.language=en",
      "-cp",
      plan.jar,
      "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
      "start",
      "--host=127.0.0.1",
      `--port=${port}`,
      `--rules=${path.join(ROOT, "firestore.rules")}`,
    ]);
    await Promise.race([
      waitFor(`http://${host}/`, { what: "the Firestore emulator", timeoutMs: 90_000 }),
      new Promise((_, reject) =>
        child.once("exit", (code) =>
          reject(new Error(`the Firestore emulator exited (code ${code}); see .tmp/firestore.log`)),
        ),
      ),
    ]);
    process.env.FIRESTORE_EMULATOR_HOST = host;
    return { host, viaFirebaseTools: false, child };
  }
  if (plan.kind === "firebase-tools") {
    const port = await pickPort(8080);
    return { host: `127.0.0.1:${port}`, viaFirebaseTools: true };
  }
  throw new MissingEmulatorError(plan.why);
}

/**
 * Starts firebase-tools' Node emulators (and Firestore when it runs them) with free ports,
 * from a generated config next to firebase.json so `source: "."` still points at the project.
 */
export async function startFirebaseEmulators({
  only = ["auth", "functions", "tasks"],
  firestore,
  env = {},
} = {}) {
  ensureLocalSecrets();
  const base = JSON.parse(readFileSync(path.join(ROOT, "firebase.json"), "utf8"));
  const ports = {
    auth: await pickPort(base.emulators?.auth?.port ?? 9099),
    functions: await pickPort(base.emulators?.functions?.port ?? 5001),
    tasks: await pickPort(base.emulators?.tasks?.port ?? 9499),
    hub: await pickPort(base.emulators?.hub?.port ?? 4400),
    logging: await pickPort(base.emulators?.logging?.port ?? 4500),
  };
  const emulators = {
    auth: { host: "127.0.0.1", port: ports.auth },
    functions: { host: "127.0.0.1", port: ports.functions },
    tasks: { host: "127.0.0.1", port: ports.tasks },
    hub: { host: "127.0.0.1", port: ports.hub },
    logging: { host: "127.0.0.1", port: ports.logging },
    ui: { enabled: false },
    singleProjectMode: true,
  };
  const list = [...only];
  if (firestore?.viaFirebaseTools) {
    const [, port] = firestore.host.split(":");
    emulators.firestore = { host: "127.0.0.1", port: Number(port) };
    list.push("firestore");
  }
  const config = { ...base, emulators };
  const configPath = path.join(ROOT, "firebase.emulators.local.json");
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const childEnv = { ...process.env, ...env };
  if (firestore && !firestore.viaFirebaseTools) childEnv.FIRESTORE_EMULATOR_HOST = firestore.host;
  const bin = path.join(ROOT, "node_modules/.bin/firebase");
  log(`starting firebase emulators: ${list.join(", ")}`);
  const child = spawnOwned(
    "firebase",
    bin,
    ["emulators:start", "--only", list.join(","), "--project", PROJECT_ID, "--config", configPath],
    childEnv,
  );
  const exited = new Promise((_, reject) =>
    child.once("exit", (code) =>
      reject(new Error(`firebase emulators exited (code ${code}); see .tmp/firebase.log`)),
    ),
  );
  const hosts = {
    auth: `127.0.0.1:${ports.auth}`,
    functions: `127.0.0.1:${ports.functions}`,
    tasks: `127.0.0.1:${ports.tasks}`,
    hub: `127.0.0.1:${ports.hub}`,
    firestore: firestore?.host,
  };
  // The hub lists emulators once all of them are up.
  await Promise.race([
    exited,
    waitFor(`http://${hosts.hub}/emulators`, {
      what: "firebase emulators",
      timeoutMs: 180_000,
      ok: (r) => r.ok,
    }),
  ]);
  if (firestore?.viaFirebaseTools) {
    await waitFor(`http://${firestore.host}/`, { what: "the Firestore emulator" });
    process.env.FIRESTORE_EMULATOR_HOST = firestore.host;
  }
  if (only.includes("functions")) {
    await Promise.race([exited, waitForFunctions(hosts.functions)]);
  }
  return hosts;
}

async function waitForFunctions(host) {
  // The functions emulator answers once it has loaded the code; an anonymous call is a 401.
  await waitFor(`http://${host}/${PROJECT_ID}/us-central1/salts-status`, {
    what: "the functions emulator (salts-status)",
    timeoutMs: 120_000,
    ok: (r) => r.status === 401,
    init: { method: "POST", headers: { "content-type": "application/json" }, body: '{"data":{}}' },
  });
}

/**
 * The emulator reads secrets from `.secret.local`. A fresh random set is written
 * when none exists; tests read the same file to hunt for leaks.
 */
export function ensureLocalSecrets() {
  const file = path.join(ROOT, ".secret.local");
  if (!existsSync(file)) {
    const lines = [
      `PSEUDONYM_PEPPER=${randomBytes(48).toString("base64url")}`,
      `SALT_ENCRYPTION_KEY=${randomBytes(32).toString("base64")}`,
      `METRICS_TOKEN=${randomBytes(24).toString("base64url")}`,
    ];
    writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
    log("wrote fresh demo secrets to .secret.local");
  }
  return readSecrets(file);
}

export function readSecrets(file = path.join(ROOT, ".secret.local")) {
  const out = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Ends every process this module started, group and all. */
export async function stopAll() {
  for (const { name, child } of owned.reverse()) {
    if (child.exitedWith) continue;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      continue;
    }
    const ended = await Promise.race([
      new Promise((r) => child.once("exit", () => r(true))),
      new Promise((r) => setTimeout(() => r(false), 10_000)),
    ]);
    if (!ended) {
      log(`${name} did not stop in 10 s; killing it`);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  owned.length = 0;
}

let handlersInstalled = false;
/** Stops everything on Ctrl-C, SIGTERM and normal exit. */
export function installCleanup() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      stopAll().finally(() => process.exit(130));
    });
  }
  process.on("exit", () => {
    for (const { child } of owned) {
      try {
        if (!child.exitedWith) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}
