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

/** Deletes every document in the emulator's default database. */
export async function clearFirestore(): Promise<void> {
  const res = await fetch(
    `http://${firestoreHost()}/emulator/v1/projects/${PROJECT_ID}/databases/(default)/documents`,
    { method: "DELETE" },
  );
  if (!res.ok) throw new Error(`clearing the Firestore emulator failed: HTTP ${res.status}`);
}
