import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The Firebase project: --project (or SALTS_PROJECT), then GOOGLE_CLOUD_PROJECT /
 * GCLOUD_PROJECT, then the default project of the nearest .firebaserc, as the
 * firebase CLI picks it.
 */
export function resolveProject(flag: string | undefined, cwd = process.cwd()): string | null {
  const fromEnv = process.env.GOOGLE_CLOUD_PROJECT || process.env.GCLOUD_PROJECT;
  return flag || fromEnv || firebasercDefault(cwd);
}

function firebasercDefault(start: string): string | null {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const file = path.join(dir, ".firebaserc");
    if (existsSync(file)) {
      try {
        const rc = JSON.parse(readFileSync(file, "utf8")) as { projects?: { default?: unknown } };
        return typeof rc.projects?.default === "string" ? rc.projects.default : null;
      } catch {
        return null;
      }
    }
    if (path.dirname(dir) === dir) return null;
  }
}

/** Emulator hosts, as the firebase CLI and the Admin SDK read them. */
export const emulators = {
  functions: (): string | undefined => process.env.FUNCTIONS_EMULATOR_HOST || undefined,
  auth: (): string | undefined => process.env.FIREBASE_AUTH_EMULATOR_HOST || undefined,
  firestore: (): string | undefined => process.env.FIRESTORE_EMULATOR_HOST || undefined,
};
