import type { Firestore } from "firebase-admin/firestore";
import { FirestoreAuditStore, FirestoreSettingsStore } from "../adapters/firestore/firestoreAudit";
import { FirestoreJobStore, FirestoreLeaseStore } from "../adapters/firestore/firestoreJobStore";
import { FirestoreRequestStore } from "../adapters/firestore/firestoreRequests";
import { FirestoreSaltStore } from "../adapters/firestore/firestoreSaltStore";
import { FirestoreRefusalBudget } from "../adapters/firestore/firestoreRefusals";
import { FirestoreMetricsStore, FirestoreRateLimiter } from "../adapters/firestore/firestoreStores";
import { BucketAnchorStore } from "../adapters/cloudStorage/anchorBucket";
import { MemoryAuditStore, MemorySettingsStore } from "../adapters/memory/memoryAudit";
import { MemoryJobStore, MemoryLeaseStore } from "../adapters/memory/memoryJobStore";
import { MemoryRequestStore } from "../adapters/memory/memoryRequests";
import { MemorySaltStore } from "../adapters/memory/memorySaltStore";
import { MemoryState } from "../adapters/memory/memoryState";
import { MemoryRefusalBudget } from "../adapters/memory/memoryRefusals";
import { MemoryMetricsStore, MemoryRateLimiter } from "../adapters/memory/memoryStores";
import { FirebaseIdentity } from "../adapters/firebaseIdentity";
import { FirebaseAccounts } from "../adapters/firebaseAccounts";
import { FirestoreApprovalStore } from "../adapters/firestore/firestoreApprovals";
import { FirestoreRoleIndex } from "../adapters/firestore/firestoreRoles";
import { MemoryApprovalStore } from "../adapters/memory/memoryApprovals";
import { MemoryRoleIndex } from "../adapters/memory/memoryRoles";
import { ApprovalPolicySource } from "../engine/approvalPolicy";
import type { AccountDirectory } from "../ports/accounts";
import { GoogleIdTokens } from "../adapters/googleIdTokens";
import { CloudTaskQueue, InProcessTaskQueue } from "../adapters/taskQueues";
import { policyOf, readConfig } from "../config/config";
import type { ServiceConfig } from "../config/settings";
import { Pseudonymizer } from "../engine/pseudonymizer";
import { StoredPolicySource } from "../engine/policySource";
import { SaltCache } from "../engine/saltCache";
import { logs } from "../observability/logs";
import { MetricsRecorder } from "../observability/metrics";
import { NO_ANCHOR, type AnchorStore } from "../ports/anchorStore";
import type { BackendDeps } from "../ports/backendDeps";
import type { IdentityProvider } from "../ports/identity";
import type { IdTokenVerifier } from "../ports/idTokens";
import type { TaskQueue } from "../ports/taskQueue";
import type { Services } from "../usecases/deps";
import { composeScopes } from "./composeScopes";
import { adminFirestore, cloudStorage } from "./firebase";
import { secretsFor, type ServiceSecrets } from "./secrets";
import { composeEvents } from "./events";
import type { EventPublisher } from "../ports/events";

/** What an entry point (or a test) may choose instead of what the configuration says. */
export interface CompositionOptions {
  config?: ServiceConfig;
  /** Any of the pepper, the encryption key ring and the audit key (tests). */
  secrets?: Partial<ServiceSecrets>;
  clock?: () => Date;
  /** A specific Firestore client (tests route one through a proxy they own). */
  firestore?: Firestore;
  /** The memory backend's storage, when a test wants to reach it as a database attacker would. */
  memoryState?: MemoryState;
  /** Who callers are (tests without an Auth emulator). */
  identity?: IdentityProvider;
  /** Where audit checkpoints are anchored (tests); otherwise AUDIT_ANCHOR_BUCKET decides. */
  anchor?: AnchorStore;
  /** Firebase Auth accounts whose role claims the access use cases change (tests without an Auth emulator). */
  accounts?: AccountDirectory;
  /** Who signed OIDC ID tokens (tests with their own signing keys). */
  idTokens?: IdTokenVerifier;
  /** Run queued job tasks in this process instead of Cloud Tasks. */
  inProcessTasks?: boolean;
  /** Where events go instead of the Pub/Sub topic (tests). */
  publisher?: EventPublisher;
}

/**
 * The composition root: builds every adapter once from the configuration and
 * wires them into the services the use cases receive. Each entry point
 * (functions instance, CLI, library, tests) calls it once.
 */
export function composeServices(o: CompositionOptions = {}): Services {
  const config = o.config ?? readConfig();
  const clock = o.clock ?? (() => new Date());
  const timeoutMs = config.firestoreTimeoutMs;
  const firestore = config.backend === "firestore" ? (o.firestore ?? adminFirestore()) : null;
  const memory = o.memoryState ?? new MemoryState();

  const secrets = { ...secretsFor(config), ...o.secrets };
  const settings = firestore
    ? new FirestoreSettingsStore(firestore, secrets.auditKey, clock, timeoutMs)
    : new MemorySettingsStore(memory, clock, secrets.auditKey);
  // A reload re-reads the deployed params from the environment, unless the caller fixed the configuration.
  const params = o.config ? () => policyOf(config) : () => policyOf(readConfig());
  const policy = new StoredPolicySource(settings, params, config.settingsRefreshSeconds * 1000);

  // Events are drained in this process wherever jobs run in it (the memory backend, tests).
  const inProcess = Boolean(o.inProcessTasks || !firestore);
  const events = composeEvents({ config, clock, firestore, memory, publisher: o.publisher, inProcess });
  const backendDeps: BackendDeps = {
    events,
    clock,
    policy: () => policy.current(),
    retentionDays: () => config.retentionDays,
    keys: secrets.keys,
    auditKey: secrets.auditKey,
  };
  const salts = firestore
    ? new FirestoreSaltStore(firestore, backendDeps, { timeoutMs })
    : new MemorySaltStore(backendDeps, memory);
  const cache = new SaltCache(salts, {
    ttlMs: config.cacheTtlSeconds * 1000,
    staleMaxMs: config.staleMaxSeconds * 1000,
    clock: () => clock().getTime(),
  });
  const pepper = secrets.pepper;
  const metricsStore = firestore ? new FirestoreMetricsStore(firestore, timeoutMs) : new MemoryMetricsStore();

  let services: Services | null = null;
  // Without Cloud Tasks (memory backend, tests), queued work runs here through the same use case
  // (the job engine loads with the first task, not with the services).
  const tasks: TaskQueue =
    o.inProcessTasks || !firestore
      ? new InProcessTaskQueue(async (task, finalAttempt) => {
          const [{ runTask }, { JOB_SPECS }] = await Promise.all([
            import("../usecases/jobs/fanout.js"),
            import("../usecases/jobs/kinds.js"),
          ]);
          const ctx = { correlationId: "in-process-task", actor: { uid: "job-task", via: "task" as const } };
          await runTask(services!, ctx, JOB_SPECS, task, finalAttempt).finally(() =>
            events.flush({ toDrain: true }),
          );
        })
      : new CloudTaskQueue(config.region ?? "us-central1");

  const approvals = firestore
    ? new FirestoreApprovalStore(firestore, clock, secrets.auditKey, timeoutMs)
    : new MemoryApprovalStore(memory, clock, secrets.auditKey);

  const pseudonymizer = new Pseudonymizer(cache, pepper, { minPepperVersion: config.pepperMinVersion });
  const metrics = new MetricsRecorder(metricsStore, {
    now: () => clock().getTime(),
    onError: (e) => logs.metricsFlushFailed(e),
  });
  const scopeParts = { config, clock, firestore, memory, backendDeps, cache, pepper, pseudonymizer, metrics };
  const built: Services = {
    config,
    clock,
    policy,
    salts,
    audit: firestore
      ? new FirestoreAuditStore(firestore, clock, secrets.auditKey, timeoutMs)
      : new MemoryAuditStore(memory, clock, secrets.auditKey),
    anchor:
      o.anchor ??
      (config.anchorBucket ? new BucketAnchorStore(cloudStorage, config.anchorBucket, timeoutMs) : NO_ANCHOR),
    settings,
    cache,
    pepper,
    keys: secrets.keys,
    auditKey: secrets.auditKey,
    pseudonymizer,
    ...composeScopes(scopeParts),
    jobs: firestore
      ? new FirestoreJobStore(firestore, timeoutMs, events)
      : new MemoryJobStore(memory, events),
    requests: firestore
      ? new FirestoreRequestStore(firestore, clock, timeoutMs)
      : new MemoryRequestStore(memory, clock),
    leases: firestore ? new FirestoreLeaseStore(firestore, timeoutMs) : new MemoryLeaseStore(),
    tasks,
    rateLimiter: firestore
      ? new FirestoreRateLimiter(firestore, clock, timeoutMs)
      : new MemoryRateLimiter(clock),
    refusalBudget: firestore
      ? new FirestoreRefusalBudget(
          firestore,
          new FirestoreRateLimiter(firestore, clock, timeoutMs),
          clock,
          timeoutMs,
        )
      : new MemoryRefusalBudget(clock),
    identity: o.identity ?? new FirebaseIdentity(),
    // Unsigned tokens only under the Functions emulator, where nothing can mint a Google-signed one.
    idTokens: o.idTokens ?? new GoogleIdTokens({ acceptUnsigned: config.emulator }),
    metricsStore,
    metrics,
    approvals,
    approvalPolicy: new ApprovalPolicySource(approvals, config.settingsRefreshSeconds * 1000),
    accounts: o.accounts ?? new FirebaseAccounts(),
    roles: firestore
      ? new FirestoreRoleIndex(firestore, clock, secrets.auditKey, timeoutMs)
      : new MemoryRoleIndex(memory, clock, secrets.auditKey),
    events,
  };
  services = built;
  return built;
}
