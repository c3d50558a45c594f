// firebase-tools' Node emulators (auth, functions, tasks; Firestore too when it runs it), started
// with free ports from a generated config next to firebase.json, so `source: "."` still points here.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pickPort, waitFor } from "./net.mjs";
import { exitOf, log, ROOT, spawnOwned } from "./processes.mjs";
import { ensureLocalSecrets } from "./secrets.mjs";

export const PROJECT_ID = process.env.GCLOUD_PROJECT || "demo-salts";

/** The service account the local stack and the tests let call salts-pseudonymizeBatch (BIGQUERY_INVOKERS). */
export const DEMO_BIGQUERY_INVOKER = "bigquery-demo@demo-salts.iam.gserviceaccount.com";

/**
 * Starts the emulators in `only`. `env` reaches the functions (their workers inherit the
 * emulator's environment); `codebases` adds function sources beside the project's own.
 */
export async function startFirebaseEmulators({
  only = ["auth", "functions", "tasks"],
  firestore,
  env = {},
  codebases = [],
} = {}) {
  ensureLocalSecrets();
  const base = JSON.parse(readFileSync(path.join(ROOT, "firebase.json"), "utf8"));
  const names = ["auth", "functions", "tasks", "hub", "logging"];
  const fallback = { auth: 9099, functions: 5001, tasks: 9499, hub: 4400, logging: 4500 };
  const emulators = { ui: { enabled: false }, singleProjectMode: true };
  const hosts = { firestore: firestore?.host };
  for (const name of names) {
    const port = await pickPort(base.emulators?.[name]?.port ?? fallback[name]);
    emulators[name] = { host: "127.0.0.1", port };
    hosts[name] = `127.0.0.1:${port}`;
  }
  const list = [...only];
  if (firestore?.viaFirebaseTools) {
    emulators.firestore = { host: "127.0.0.1", port: Number(firestore.host.split(":")[1]) };
    list.push("firestore");
  }
  const config = { ...base, functions: [...base.functions, ...codebases], emulators };
  const configPath = path.join(ROOT, "firebase.emulators.local.json");
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const childEnv = { ...process.env, ...env };
  // firebase-tools' debug log goes under .tmp, not the project root: the functions emulator watches the
  // root (source "."), and its watcher re-reads the root directory on every write to a file there, ~15
  // debug lines per call (measured: 6 of the 13.8 ms of CPU firebase-tools spent per callable call, one call at a time).
  childEnv.FIREBASE_DEBUG_PATH ??= path.join(ROOT, ".tmp", "firebase-debug.log");
  // The functions may be given another route to the same Firestore (a proxy the tests can cut).
  if (firestore && !firestore.viaFirebaseTools) childEnv.FIRESTORE_EMULATOR_HOST = env.FIRESTORE_EMULATOR_HOST ?? firestore.host;
  log(`starting firebase emulators: ${list.join(", ")}`);
  const child = spawnOwned(
    "firebase",
    path.join(ROOT, "node_modules/.bin/firebase"),
    ["emulators:start", "--only", list.join(","), "--project", PROJECT_ID, "--config", configPath],
    childEnv,
  );
  const exited = exitOf(child, "firebase emulators");
  // The hub lists emulators once all of them are up.
  await Promise.race([
    exited,
    waitFor(`http://${hosts.hub}/emulators`, { what: "firebase emulators", timeoutMs: 180_000, ok: (r) => r.ok }),
  ]);
  if (firestore?.viaFirebaseTools) {
    await waitFor(`http://${firestore.host}/`, { what: "the Firestore emulator" });
    process.env.FIRESTORE_EMULATOR_HOST = firestore.host;
  }
  if (only.includes("functions")) await Promise.race([exited, waitForFunctions(hosts.functions)]);
  return hosts;
}

async function waitForFunctions(host) {
  // The functions emulator answers once it has loaded the code; an anonymous call is a 401.
  await waitFor(`http://${host}/${PROJECT_ID}/us-central1/salts-status`, {
    what: "the functions emulator (salts-status)",
    // A loaded machine (several stacks on two cores) can take minutes to start the first worker;
    // FUNCTIONS_START_TIMEOUT_MS sets it.
    timeoutMs: Number(process.env.FUNCTIONS_START_TIMEOUT_MS) || 300_000,
    // A slow first load is waited for, not asked again: each request left waiting starts another worker.
    attemptMs: 120_000,
    ok: (r) => r.status === 401,
    init: { method: "POST", headers: { "content-type": "application/json" }, body: '{"data":{}}' },
  });
}
