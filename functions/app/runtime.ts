import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import { FirestoreJobStore } from "../adapters/firestore/firestoreJobStore";
import { FirestoreMetricsStore, FirestoreRateLimiter } from "../adapters/firestore/firestoreStores";
import { MemoryJobStore } from "../adapters/memory/memoryJobStore";
import { MemoryMetricsStore, MemoryRateLimiter } from "../adapters/memory/memoryStores";
import { RuntimePepperSource, SecretManagerPepperSource } from "../adapters/secretManager/pepperSources";
import { createSaltBackend } from "../adapters/select";
import { CloudTaskQueue, InProcessTaskQueue } from "../adapters/taskQueues";
import { PSEUDONYM_PEPPER, SALT_ENCRYPTION_KEY } from "../config/params";
import { policyOf, readConfig, type ServiceConfig } from "../config/runtime";
import { parseEncryptionKey, SaltCipher } from "../domain/encryption";
import type { RotationPolicy } from "../domain/policy";
import { Pseudonymizer } from "../engine/pseudonymizer";
import { runTask } from "../usecases/rotationJob";
import { SaltCache } from "../engine/saltCache";
import { MetricsRecorder } from "../observability/metrics";
import type { BackendDeps } from "../ports/backendDeps";
import type { JobStore } from "../ports/jobStore";
import type { MetricsStore } from "../ports/metricsStore";
import type { PepperSource } from "../ports/pepperSource";
import type { RateLimiter } from "../ports/rateLimiter";
import type { SaltBackend } from "../ports/saltBackend";
import type { TaskQueue } from "../ports/taskQueue";

/** Everything one instance builds once: config, storage, caches, pepper, queues. */
export interface ServiceRuntime {
  readonly config: ServiceConfig;
  readonly backend: SaltBackend;
  readonly cache: SaltCache;
  readonly pepper: PepperSource;
  readonly pseudonymizer: Pseudonymizer;
  readonly rateLimiter: RateLimiter;
  readonly metricsStore: MetricsStore;
  readonly metrics: MetricsRecorder;
  readonly jobs: JobStore;
  readonly tasks: TaskQueue;
  readonly clock: () => Date;
  /** The rotation policy in force in this instance; changed only by an explicit reload. */
  policy(): RotationPolicy;
  setPolicy(policy: RotationPolicy): void;
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
const projectId = (env: NodeJS.ProcessEnv): string | undefined =>
  env.GCLOUD_PROJECT ?? env.GOOGLE_CLOUD_PROJECT;

/**
 * Secret Manager in production; the value the Functions runtime provides
 * (`.secret.local`) under the emulator or when PEPPER_SOURCE=runtime.
 */
export function pepperSourceFromEnv(env: NodeJS.ProcessEnv = process.env): PepperSource {
  const useRuntime = env.FUNCTIONS_EMULATOR === "true" || !projectId(env);
  const mode =
    env.PEPPER_SOURCE ?? (useRuntime && !env.SECRET_MANAGER_EMULATOR_HOST ? "runtime" : "secret-manager");
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

export interface RuntimeOverrides {
  config?: ServiceConfig;
  pepper?: PepperSource;
  clock?: () => Date;
  /** Replace the encryption key source (tests). */
  cipher?: BackendDeps["cipher"];
  tasks?: TaskQueue;
  /** A specific Firestore client (tests route one through a proxy they own). */
  firestore?: Firestore;
}

export function buildRuntime(o: RuntimeOverrides = {}): ServiceRuntime {
  const config = o.config ?? readConfig();
  const db = o.firestore ? () => o.firestore! : adminFirestore;
  const clock = o.clock ?? (() => new Date());
  let policy = policyOf(config);
  const backend: SaltBackend = createSaltBackend(
    config.backend,
    {
      clock,
      policy: () => policy,
      retentionDays: () => config.retentionDays,
      cipher: o.cipher ?? cipherProvider(() => secretValue(SALT_ENCRYPTION_KEY)),
    },
    db,
    { timeoutMs: config.firestoreTimeoutMs },
  );
  const cache = new SaltCache(backend, {
    ttlMs: config.cacheTtlSeconds * 1000,
    clock: () => clock().getTime(),
  });
  const pepper = o.pepper ?? pepperSourceFromEnv();
  // Firestore makes limits, metrics and jobs shared by every instance; memory keeps them per process.
  const shared = config.backend === "firestore";
  const metricsStore = shared
    ? new FirestoreMetricsStore(db(), config.firestoreTimeoutMs)
    : new MemoryMetricsStore();
  const rt: ServiceRuntime = {
    config,
    backend,
    cache,
    pepper,
    pseudonymizer: new Pseudonymizer(cache, pepper),
    rateLimiter: shared
      ? new FirestoreRateLimiter(db(), clock, config.firestoreTimeoutMs)
      : new MemoryRateLimiter(clock),
    metricsStore,
    metrics: new MetricsRecorder(metricsStore),
    jobs: shared ? new FirestoreJobStore(db(), config.firestoreTimeoutMs) : new MemoryJobStore(),
    tasks: o.tasks ?? (shared ? new CloudTaskQueue() : new InProcessTaskQueue()),
    clock,
    policy: () => policy,
    setPolicy: (p) => {
      policy = p;
    },
  };
  // Without Cloud Tasks (memory backend, tests), queued work runs in this process through the same use case.
  if (rt.tasks instanceof InProcessTaskQueue && !rt.tasks.handler) {
    rt.tasks.handler = (task, finalAttempt) =>
      runTask(
        rt,
        { correlationId: "in-process-task", actor: { uid: "rotation-task", via: "task" } },
        task,
        finalAttempt,
      );
  }
  return rt;
}

let instance: ServiceRuntime | null = null;

/** The instance's runtime, built on first use (or in `onInit`). */
export function runtime(): ServiceRuntime {
  instance ??= buildRuntime();
  return instance;
}
