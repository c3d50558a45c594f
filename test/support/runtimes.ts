import { Firestore } from "firebase-admin/firestore";
import { RuntimeSecret } from "../../functions/adapters/secretManager/secretVersions";
import { aesKeyText, pepperText, auditKeyText } from "../../functions/adapters/secretManager/validators";
import { composeServices } from "../../functions/app/compose";
import { defaultConfig, type ServiceConfig } from "../../functions/config/config";
import type { Services } from "../../functions/usecases/deps";
import { PROJECT_ID } from "./firestore";

/** The defaults, with thresholds that suit tests (inline jobs, small shards). */
export const testConfig = (over: Partial<ServiceConfig> = {}): ServiceConfig => ({
  ...defaultConfig(),
  inlineLimit: 100_000,
  shardSize: 50,
  concurrency: 8,
  ...over,
});

/** A Firestore client whose traffic goes to `host` (the env var otherwise wins over settings). */
export function firestoreVia(host: string): Firestore {
  const saved = process.env.FIRESTORE_EMULATOR_HOST;
  process.env.FIRESTORE_EMULATOR_HOST = host;
  try {
    return new Firestore({ projectId: PROJECT_ID });
  } finally {
    process.env.FIRESTORE_EMULATOR_HOST = saved;
  }
}

/** Secrets as the Functions runtime would inject them: one version each. */
export function runtimeSecrets(opts: { key: string; pepper?: string; auditKey?: string }) {
  return {
    keys: new RuntimeSecret("SALT_ENCRYPTION_KEY", () => opts.key, 1, aesKeyText),
    pepper: new RuntimeSecret("PSEUDONYM_PEPPER", () => opts.pepper ?? "p".repeat(48), 1, pepperText),
    auditKey: new RuntimeSecret("AUDIT_KEY", () => opts.auditKey ?? "a".repeat(48), 1, auditKeyText),
  };
}

/** Full services over Firestore with the given key and pepper, job tasks run in-process. */
export function firestoreRuntime(opts: {
  key: string;
  pepper?: string;
  auditKey?: string;
  firestore?: Firestore;
  config?: Partial<ServiceConfig>;
}): Services {
  return composeServices({
    config: testConfig(opts.config),
    firestore: opts.firestore,
    secrets: runtimeSecrets(opts),
    inProcessTasks: true,
  });
}
