import { Firestore } from "firebase-admin/firestore";
import { RuntimePepperSource } from "../../functions/adapters/secretManager/pepperSources";
import { InProcessTaskQueue } from "../../functions/adapters/taskQueues";
import { buildRuntime, type ServiceRuntime } from "../../functions/app/runtime";
import type { ServiceConfig } from "../../functions/config/runtime";
import { parseEncryptionKey, SaltCipher } from "../../functions/domain/encryption";
import { PROJECT_ID } from "./firestore";

export const testConfig = (over: Partial<ServiceConfig> = {}): ServiceConfig => ({
  userDays: 90,
  globalDays: 30,
  backend: "firestore",
  retentionDays: 30,
  rateLimitPerMinute: 60,
  firestoreTimeoutMs: 20_000,
  cacheTtlSeconds: 60,
  inlineLimit: 100_000,
  settingsRefreshSeconds: 30,
  jobStaleSeconds: 900,
  shardSize: 50,
  pageSize: 5000,
  concurrency: 8,
  enableMetrics: false,
  enableDevEndpoints: false,
  enforceAppCheck: false,
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

/** A full service runtime over Firestore with the given key and pepper, tasks run in-process. */
export function firestoreRuntime(opts: {
  key: string;
  pepper?: string;
  firestore?: Firestore;
  config?: Partial<ServiceConfig>;
}): ServiceRuntime {
  const cipher = new SaltCipher(parseEncryptionKey(opts.key));
  return buildRuntime({
    config: testConfig(opts.config),
    firestore: opts.firestore,
    cipher: () => cipher,
    pepper: new RuntimePepperSource(() => opts.pepper ?? "p".repeat(48), 1),
    tasks: new InProcessTaskQueue(),
  });
}
