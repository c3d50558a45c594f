// Runs a command with the emulators up: `node scripts/with-emulators.mjs [--firestore-only] <cmd...>`.
// Starts only what is not already running, exports the hosts, and stops what it started.
import { spawn } from "node:child_process";
import {
  ensureFirestore,
  installCleanup,
  PROJECT_ID,
  ROOT,
  startFirebaseEmulators,
  stopAll,
} from "./emulators.mjs";

const args = process.argv.slice(2);
const firestoreOnly = args[0] === "--firestore-only";
const command = firestoreOnly ? args.slice(1) : args;
if (command.length === 0) {
  console.error("usage: with-emulators.mjs [--firestore-only] <command...>");
  process.exit(2);
}

installCleanup();
let code = 1;
try {
  const firestore = await ensureFirestore();
  const env = { ...process.env, GCLOUD_PROJECT: PROJECT_ID, FIRESTORE_EMULATOR_HOST: firestore.host };
  if (!firestoreOnly || firestore.viaFirebaseTools) {
    const hosts = await startFirebaseEmulators({
      firestore,
      only: firestoreOnly ? [] : ["auth", "functions", "tasks"],
    });
    env.FIRESTORE_EMULATOR_HOST = process.env.FIRESTORE_EMULATOR_HOST;
    if (!firestoreOnly) {
      env.FIREBASE_AUTH_EMULATOR_HOST = hosts.auth;
      env.FUNCTIONS_EMULATOR_HOST = hosts.functions;
      env.CLOUD_TASKS_EMULATOR_HOST = hosts.tasks;
    }
  }
  const child = spawn(command[0], command.slice(1), { cwd: ROOT, env, stdio: "inherit" });
  code = await new Promise((resolve) => child.once("exit", (c, s) => resolve(c ?? (s ? 1 : 0))));
} catch (e) {
  console.error(`\n${e.message}\n`);
  code = e.name === "MissingEmulatorError" ? 3 : 1;
} finally {
  await stopAll();
}
process.exit(code);
