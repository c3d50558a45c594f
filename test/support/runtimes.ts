import { Firestore } from "firebase-admin/firestore";
import { RuntimePepperSource } from "../../functions/adapters/secretManager/pepperSources";
import { composeServices } from "../../functions/app/compose";
import { defaultConfig, type ServiceConfig } from "../../functions/config/config";
import { parseEncryptionKey, SaltCipher } from "../../functions/domain/encryption";
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

/** Full services over Firestore with the given key and pepper, job tasks run in-process. */
export function firestoreRuntime(opts: {
  key: string;
  pepper?: string;
  firestore?: Firestore;
  config?: Partial<ServiceConfig>;
}): Services {
  const cipher = new SaltCipher(parseEncryptionKey(opts.key));
  return composeServices({
    config: testConfig(opts.config),
    firestore: opts.firestore,
    cipher: () => cipher,
    pepper: new RuntimePepperSource(() => opts.pepper ?? "p".repeat(48), 1),
    inProcessTasks: true,
  });
}
