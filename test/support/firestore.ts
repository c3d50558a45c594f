import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";

export const PROJECT_ID = process.env.GCLOUD_PROJECT ?? "demo-salts";

/** The emulator's host, or a loud failure: emulator tests never pass by not running. */
export function firestoreHost(): string {
  const host = process.env.FIRESTORE_EMULATOR_HOST;
  if (!host) {
    throw new Error(
      "FIRESTORE_EMULATOR_HOST is not set: run emulator tests through `npm test` or `node scripts/with-emulators.mjs`",
    );
  }
  return host;
}

export function adminFirestore(): Firestore {
  firestoreHost();
  const app = getApps()[0] ?? initializeApp({ projectId: PROJECT_ID });
  return getFirestore(app);
}

/**
 * Deletes every document in the emulator's default database, and the audit checkpoints anchored
 * for it in the local Cloud Storage server (through its test-only reset, as retention forbids deletes).
 * The emulator answers 409 while a transaction abandoned by a cut-off client still holds locks; wait those out.
 */
export async function clearFirestore(): Promise<void> {
  const storage = process.env.STORAGE_EMULATOR_HOST;
  const bucket = process.env.AUDIT_ANCHOR_BUCKET?.split("/")[0];
  if (storage && bucket) {
    const res = await fetch(`${storage}/emulator/v1/b/${bucket}/o`, { method: "DELETE" });
    if (!res.ok) throw new Error(`clearing the local anchor bucket failed: HTTP ${res.status}`);
  }
  const url = `http://${firestoreHost()}/emulator/v1/projects/${PROJECT_ID}/databases/(default)/documents`;
  const until = Date.now() + 90_000;
  for (;;) {
    const res = await fetch(url, { method: "DELETE" });
    if (res.ok) return;
    if (res.status !== 409 || Date.now() > until) {
      throw new Error(`clearing the Firestore emulator failed: HTTP ${res.status}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
