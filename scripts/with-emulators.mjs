// Runs a command with the emulators up:
//   node scripts/with-emulators.mjs [--firestore-only] [--test-hooks] [--bench] <cmd...>
// Starts only what is not already running, exports the hosts, and stops what it started.
// --test-hooks: the functions load test/support/emulatorHooks.cjs (fault injection; emulator only), and
//   reach Firestore through a proxy the tests can cut (FUNCTIONS_FIRESTORE_PROXY: its control URL).
// --bench: adds the benchmark's baseline functions (bench/noop-functions) beside the service's.
import { spawn } from "node:child_process";
import path from "node:path";
import {
  DEMO_BIGQUERY_INVOKER,
  ensureFirestore,
  ensureLocalSecrets,
  ensurePubsub,
  installCleanup,
  PROJECT_ID,
  ROOT,
  startFirebaseEmulators,
  startLocalCloudStorage,
  startFaultProxy,
  startLocalSecretManager,
  stopAll,
} from "./emulators.mjs";

const flags = new Set();
const args = process.argv.slice(2);
while (args[0]?.startsWith("--")) flags.add(args.shift());
if (args.length === 0) {
  console.error("usage: with-emulators.mjs [--firestore-only] [--test-hooks] [--bench] <command...>");
  process.exit(2);
}
const firestoreOnly = flags.has("--firestore-only");

installCleanup();
let code = 1;
let secretManager = null;
let cloudStorage = null;
let faultProxy = null;
let pubsub = null;
try {
  const firestore = await ensureFirestore();
  // The functions read their secrets through Secret Manager's API, from this local server (version 1 of each
  // is the value in .secret.local); tests add, disable and destroy versions through the real client.
  const local = await startLocalSecretManager(PROJECT_ID, ensureLocalSecrets());
  secretManager = local.sm;
  // Audit checkpoints are anchored in a retention-locked bucket of a local Cloud Storage server.
  const storage = await startLocalCloudStorage();
  cloudStorage = storage.storage;
  const anchor = { STORAGE_EMULATOR_HOST: storage.host, AUDIT_ANCHOR_BUCKET: storage.bucket };
  const env = {
    ...process.env,
    GCLOUD_PROJECT: PROJECT_ID,
    FIRESTORE_EMULATOR_HOST: firestore.host,
    SECRET_MANAGER_EMULATOR_HOST: local.host,
    ...anchor,
  };
  // Events go to the Pub/Sub emulator (through a gate tests can close: PUBSUB_EMULATOR_CONTROL).
  // SALTS_PUBSUB=off leaves it out on purpose (`bench:compare --events-apart` measures a tree without its
  // events' publication): the functions then find no Pub/Sub and the events stay in the outbox.
  const pubsubOff = process.env.SALTS_PUBSUB === "off";
  if (pubsubOff && !firestoreOnly) {
    console.error("\n!!! Pub/Sub not started (SALTS_PUBSUB=off): events are recorded, never published.\n");
    delete env.PUBSUB_EMULATOR_HOST;
    delete process.env.PUBSUB_EMULATOR_HOST;
  }
  pubsub = firestoreOnly || pubsubOff ? null : await ensurePubsub(PROJECT_ID);
  if (pubsub?.missing) console.error(`\n!!! Pub/Sub: ${pubsub.missing}\n!!! Events stay in the outbox.\n`);
  else if (pubsub) {
    env.PUBSUB_EMULATOR_HOST = pubsub.host;
    if (pubsub.control) env.PUBSUB_EMULATOR_CONTROL = pubsub.control;
  }
  if (!firestoreOnly || firestore.viaFirebaseTools) {
    const hooks = flags.has("--test-hooks");
    // Only a Firestore this launcher reaches by host can be routed through the proxy.
    if (hooks && !firestoreOnly && !firestore.viaFirebaseTools) {
      faultProxy = await startFaultProxy(firestore.host);
      env.FUNCTIONS_FIRESTORE_PROXY = faultProxy.control;
    }
    const hosts = await startFirebaseEmulators({
      firestore,
      only: firestoreOnly ? [] : ["auth", "functions", "tasks"],
      env: {
        SECRET_MANAGER_EMULATOR_HOST: local.host,
        ...anchor,
        BIGQUERY_INVOKERS: DEMO_BIGQUERY_INVOKER,
        ...(hooks ? { EMULATOR_TEST_HOOKS: path.join(ROOT, "test/support/emulatorHooks.cjs") } : {}),
        ...(faultProxy ? { FIRESTORE_EMULATOR_HOST: faultProxy.host } : {}),
        ...(env.PUBSUB_EMULATOR_HOST ? { PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST } : {}),
      },
      codebases: flags.has("--bench") ? [{ source: "bench/noop-functions", codebase: "bench" }] : [],
    });
    env.FIRESTORE_EMULATOR_HOST = process.env.FIRESTORE_EMULATOR_HOST;
    if (!firestoreOnly) {
      env.FIREBASE_AUTH_EMULATOR_HOST = hosts.auth;
      env.FUNCTIONS_EMULATOR_HOST = hosts.functions;
      env.CLOUD_TASKS_EMULATOR_HOST = hosts.tasks;
    }
  }
  const child = spawn(args[0], args.slice(1), { cwd: ROOT, env, stdio: "inherit" });
  code = await new Promise((resolve) => child.once("exit", (c, s) => resolve(c ?? (s ? 1 : 0))));
} catch (e) {
  console.error(`\n${e.message}\n`);
  code = e.name === "MissingEmulatorError" ? 3 : 1;
} finally {
  await secretManager?.stop();
  await cloudStorage?.stop();
  await faultProxy?.stop();
  await pubsub?.stop?.();
  await stopAll();
}
process.exit(code);
