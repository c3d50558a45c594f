import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import { createSaltBackend } from "../adapters/select";
import { RuntimePepperSource, SecretManagerPepperSource } from "../adapters/secretManager/pepperSources";
import { PSEUDONYM_PEPPER, SALT_ENCRYPTION_KEY } from "../config/params";
import { policyOf, readConfig, type ServiceConfig } from "../config/runtime";
import { parseEncryptionKey, SaltCipher } from "../domain/encryption";
import type { RotationPolicy } from "../domain/policy";
import { Pseudonymizer } from "../engine/pseudonymizer";
import { SaltCache } from "../engine/saltCache";
import type { PepperSource } from "../ports/pepperSource";
import type { SaltBackend } from "../ports/saltBackend";
import type { RateLimiter } from "../ports/rateLimiter";
import type { MetricsStore } from "../ports/metricsStore";
import { FirestoreMetricsStore, FirestoreRateLimiter } from "../adapters/firestore/firestoreStores";
import { MemoryMetricsStore, MemoryRateLimiter } from "../adapters/memory/memoryStores";
import { MetricsRecorder } from "../observability/metrics";

/** Everything one instance builds once: config, storage, caches, pepper. */
export interface ServiceRuntime {
  readonly config: ServiceConfig;
  readonly backend: SaltBackend;
  readonly cache: SaltCache;
  readonly pepper: PepperSource;
  readonly pseudonymizer: Pseudonymizer;
  readonly rateLimiter: RateLimiter;
  readonly metricsStore: MetricsStore;
  readonly metrics: MetricsRecorder;
  /** The rotation policy in force in this instance; changed only by an explicit reload. */
  policy(): RotationPolicy;
  setPolicy(policy: RotationPolicy): void;
  firestore(): Firestore;
}

export function adminFirestore(): Firestore {
  const app = getApps()[0] ?? initializeApp();
  return getFirestore(app);
}

/** The encryption key is read per use (it is an env var), parsed once per distinct value. */
function cipherProvider(read: () => string): () => SaltCipher {
  let lastRaw: string | null = null;
  let cipher: SaltCipher | null = null;
  return () => {
    const raw = read();
    if (raw !== lastRaw || !cipher) {
      cipher = new SaltCipher(parseEncryptionKey(raw));
      lastRaw = raw;
    }
    return cipher;
  };
}

const secretValue = (secret: typeof PSEUDONYM_PEPPER): string => process.env[secret.name] ?? "";

/**
 * Secret Manager in production; the value the Functions runtime provides
 * (`.secret.local`) under the emulator or when PEPPER_SOURCE=runtime.
 */
export function pepperSourceFromEnv(env: NodeJS.ProcessEnv = process.env): PepperSource {
  const mode =
    env.PEPPER_SOURCE ??
    (env.FUNCTIONS_EMULATOR === "true" || !projectId(env) ? "runtime" : "secret-manager");
  if (mode === "runtime") {
    const declared = Number(env.PSEUDONYM_PEPPER_VERSION ?? "1");
    return new RuntimePepperSource(
      () => secretValue(PSEUDONYM_PEPPER),
      Number.isInteger(declared) && declared > 0 ? declared : 1,
    );
  }
  const host = env.SECRET_MANAGER_EMULATOR_HOST;
  const client = host ? localSecretManagerClient(host) : new SecretManagerServiceClient();
  return new SecretManagerPepperSource(
    client,
    projectId(env) ?? "",
    PSEUDONYM_PEPPER.name,
    env.PEPPER_SECRET_VERSION ?? "latest",
  );
}

/** A client for a local server speaking Secret Manager's gRPC API (tests, demos). */
export function localSecretManagerClient(hostPort: string): SecretManagerServiceClient {
  const [host, port] = hostPort.split(":");
  // A local server has no cloud metadata service: do not let the auth library probe for one.
  process.env.METADATA_SERVER_DETECTION ??= "none";
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { grpc } = require("google-gax") as typeof import("google-gax");
  return new SecretManagerServiceClient({
    apiEndpoint: host,
    port: Number(port),
    sslCreds: grpc.credentials.createInsecure(),
  });
}

const projectId = (env: NodeJS.ProcessEnv): string | undefined =>
  env.GCLOUD_PROJECT ?? env.GOOGLE_CLOUD_PROJECT;

export function buildRuntime(
  config: ServiceConfig = readConfig(),
  pepper: PepperSource = pepperSourceFromEnv(),
): ServiceRuntime {
  let policy = policyOf(config);
  const backend = createSaltBackend(
    config.backend,
    {
      clock: () => new Date(),
      policy: () => policy,
      retentionDays: () => config.retentionDays,
      cipher: cipherProvider(() => secretValue(SALT_ENCRYPTION_KEY)),
    },
    adminFirestore,
    { timeoutMs: config.firestoreTimeoutMs },
  );
  const cache = new SaltCache(backend, { ttlMs: config.cacheTtlSeconds * 1000 });
  const shared = config.backend === "firestore";
  const metricsStore = shared
    ? new FirestoreMetricsStore(adminFirestore(), config.firestoreTimeoutMs)
    : new MemoryMetricsStore();
  return {
    rateLimiter: shared
      ? new FirestoreRateLimiter(adminFirestore(), undefined, config.firestoreTimeoutMs)
      : new MemoryRateLimiter(),
    metricsStore,
    metrics: new MetricsRecorder(metricsStore),
    config,
    backend,
    cache,
    pepper,
    pseudonymizer: new Pseudonymizer(cache, pepper),
    policy: () => policy,
    setPolicy: (p) => {
      policy = p;
    },
    firestore: adminFirestore,
  };
}

let instance: ServiceRuntime | null = null;

/** The instance's runtime, built on first use (or in `onInit`). */
export function runtime(): ServiceRuntime {
  instance ??= buildRuntime();
  return instance;
}

/** Tests and the CLI may install their own runtime. */
export function setRuntime(r: ServiceRuntime | null): void {
  instance = r;
}
