// Firestore for the local stack and the tests: an emulator already running (FIRESTORE_EMULATOR_HOST),
// else the Google Cloud CLI's emulator on this machine (run on Java directly, in its own process group),
// else firebase-tools' own when Java is 21 or newer, else a clear message of what to install.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { pickPort, waitFor } from "./net.mjs";
import { exitOf, log, ROOT, spawnOwned } from "./processes.mjs";

export class MissingEmulatorError extends Error {
  name = "MissingEmulatorError";
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
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${res.stderr}${res.stdout}`);
  if (!m) return null;
  return m[1] === "1" ? Number(m[2]) : Number(m[1]);
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
      exitOf(child, "the Firestore emulator"),
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
