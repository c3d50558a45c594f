/**
 * Every setting of the service, declared once: its environment name, type,
 * default, bounds and description. `readConfig` parses them all in one pass;
 * `params.ts` declares the deploy-time params from the same table; the README's
 * configuration table is generated from it (`npm run docs:config`).
 *
 * Scopes: `param` (a firebase-functions param: prompted at deploy, set in
 * `.env` files), `env` (plain environment, for operators and tests), `platform`
 * (set by the Functions runtime or the emulators; never set by hand).
 */
import { BIGQUERY_SETTINGS } from "./bigquerySettings";
import { CONTROL_SETTINGS } from "./controlSettings";
import { bool, int, type Setting } from "./settingTypes";
import { EVENT_SETTINGS } from "./eventSettings";

export type { Setting, SettingScope } from "./settingTypes";

export const SETTINGS = {
  userDays: int("USER_SALT_ROTATION_DAYS", 90, 1, 3650, "Days between rotations of a per-user salt."),
  globalDays: int(
    "GLOBAL_SALT_ROTATION_DAYS",
    30,
    1,
    3650,
    "Days between rotations of a global (event-type) salt.",
  ),
  backend: {
    env: "SALT_BACKEND",
    type: "enum",
    options: ["firestore", "memory"],
    default: "firestore",
    scope: "param",
    description: "Where salts live: `firestore`, or `memory` (per instance; tests and demos).",
  },
  retentionDays: int(
    "SALT_HISTORY_RETENTION_DAYS",
    30,
    0,
    3650,
    "Days a retired salt version is kept so pseudonyms made under it still verify.",
  ),
  rateLimitPerMinute: int(
    "ADMIN_RATE_LIMIT_PER_MINUTE",
    60,
    1,
    100_000,
    "Calls per minute each caller may make to each function, shared by all instances.",
  ),
  firestoreTimeoutMs: int(
    "FIRESTORE_TIMEOUT_MS",
    20_000,
    100,
    600_000,
    "Milliseconds a storage operation may take before the call answers unavailable.",
  ),
  cacheTtlSeconds: int(
    "SALT_CACHE_TTL_SECONDS",
    60,
    0,
    86_400,
    "Seconds a loaded salt is reused for pseudonymization before it is read again.",
  ),
  settingsRefreshSeconds: int(
    "SETTINGS_REFRESH_SECONDS",
    30,
    0,
    3600,
    "Seconds an instance keeps the intervals in force before re-reading what the last reload activated.",
  ),
  jobStaleSeconds: int(
    "JOB_STALE_SECONDS",
    900,
    1,
    86_400,
    "A running job whose workers wrote nothing for this long is reported failed.",
  ),
  inlineLimit: int(
    "ROTATE_INLINE_LIMIT",
    2000,
    0,
    1_000_000,
    "Items a batch job processes inside the call; above this it fans out to the task queue.",
  ),
  pageSize: int(
    "ROTATION_PAGE_SIZE",
    5000,
    1,
    10_000,
    "Items a fan-out planner lists per query, and between two progress checkpoints of an inline job (which streams its items: it holds what the stream buffers, not a page).",
  ),
  shardSize: int("ROTATION_SHARD_SIZE", 500, 1, 5000, "Items per task-queue shard of a fan-out batch job."),
  concurrency: int("ROTATION_CONCURRENCY", 16, 1, 256, "Chunk commits one worker runs in parallel."),
  rotationJitter: {
    env: "ROTATION_JITTER",
    type: "number",
    default: 0.1,
    min: 0,
    max: 0.5,
    scope: "param",
    description:
      "Fraction of the interval by which a salt may come due early (never late), spread evenly per salt version, " +
      "so that salts created together do not come due together.",
  },
  staleMaxSeconds: {
    env: "SALT_STALE_MAX_SECONDS",
    type: "int",
    default: 300,
    min: 0,
    max: 86_400,
    scope: "param",
    description:
      "While storage is unreachable, a loaded salt keeps serving for at most this long after it was read; then unavailable.",
  },
  keyVersion: {
    env: "SALT_ENCRYPTION_KEY_VERSION",
    type: "string",
    default: "latest",
    pattern: /^(latest|[1-9][0-9]{0,8})$/,
    scope: "param",
    description:
      "The `SALT_ENCRYPTION_KEY` version that encrypts: `latest` (re-resolved every `SALT_KEY_REFRESH_SECONDS`) or a number. " +
      "Older enabled versions still decrypt.",
  },
  keyRefreshSeconds: int(
    "SALT_KEY_REFRESH_SECONDS",
    300,
    0,
    86_400,
    "How often an instance asks Secret Manager again about the encryption key version it uses (0: once per instance): " +
      "a version disabled or destroyed stops encrypting within it (docs/CRYPTO.md).",
  ),
  pepperMinVersion: int(
    "PEPPER_MIN_VERSION",
    1,
    1,
    1_000_000_000,
    "Pseudonyms made under older pepper versions no longer verify.",
  ),
  sweepScanPerRun: int(
    "SWEEP_SCAN_PER_RUN",
    200_000,
    1,
    100_000_000,
    "Salts one sweep checks, going on from where the last stopped: a pass over every salt may take several sweeps.",
  ),
  rampStartOps: int(
    "RAMP_START_OPS",
    500,
    1,
    100_000,
    "Writes per second a batch job starts at (Firestore's 500/50/5 rule: start at 500, +50% every 5 minutes).",
  ),
  rampMaxOps: int(
    "RAMP_MAX_OPS",
    10_000,
    1,
    1_000_000,
    "The write rate batch jobs ramp up to; the task queue's dispatch rate and concurrency derive from it.",
  ),
  linkWindowHours: int(
    "LINK_WINDOW_HOURS",
    48,
    0,
    8760,
    "Hours after a user's salt rotates during which the previous version's pseudonym may be asked for (`with_previous`); 0 turns linking off.",
  ),
  enableMetrics: bool("ENABLE_METRICS", "Serve Prometheus metrics at `salts-metrics`."),
  enableDevEndpoints: bool("ENABLE_DEV_ENDPOINTS", "Enable `salts-pseudonymizeTest` (development only)."),
  enforceAppCheck: bool("ENFORCE_APP_CHECK", "Require a valid App Check token on every callable."),
  sweepSchedule: {
    env: "SWEEP_SCHEDULE",
    type: "string",
    default: "every 24 hours",
    scope: "env",
    description: "Schedule (UTC) of `salts-integritySweep`; read from `.env` when deploying.",
  },
  pepperSource: {
    env: "PEPPER_SOURCE",
    type: "enum",
    options: ["secret-manager", "runtime"],
    default: null,
    scope: "env",
    description:
      "Where secrets are read: Secret Manager, or the value the Functions runtime injects for a bound secret. " +
      "Unset: `runtime` under the emulator (unless `SECRET_MANAGER_EMULATOR_HOST` is set), else `secret-manager`.",
  },
  pepperSecretVersion: {
    env: "PEPPER_SECRET_VERSION",
    type: "string",
    default: "latest",
    pattern: /^(latest|[1-9][0-9]*)$/,
    scope: "env",
    description: "The `PSEUDONYM_PEPPER` version that pseudonymizes: `latest` (resolved once) or a number.",
  },
  runtimePepperVersion: {
    env: "PSEUDONYM_PEPPER_VERSION",
    type: "string",
    default: "1",
    pattern: /^[1-9][0-9]{0,8}$/,
    scope: "env",
    description: "With `PEPPER_SOURCE=runtime`: the version number the injected pepper is known by.",
  },
  secretManagerHost: {
    env: "SECRET_MANAGER_EMULATOR_HOST",
    type: "string",
    default: null,
    pattern: /^[A-Za-z0-9.-]+:[0-9]{1,5}$/,
    scope: "env",
    description: "host:port of a local server speaking the Secret Manager API (tests, local stack).",
  },
  serviceAccount: {
    env: "SALTS_SERVICE_ACCOUNT",
    type: "string",
    default: null,
    scope: "env",
    description:
      "Service account the callables, the task worker and the sweep run as (read at deploy; unset: the project's default).",
  },
  metricsServiceAccount: {
    env: "METRICS_SERVICE_ACCOUNT",
    type: "string",
    default: null,
    scope: "env",
    description: "Service account `salts-metrics` runs as: it only reads Firestore and the metrics token.",
  },
  ...CONTROL_SETTINGS,
  ...BIGQUERY_SETTINGS,
  projectId: {
    env: "GCLOUD_PROJECT",
    type: "string",
    default: null,
    scope: "platform",
    description: "The Firebase project (also read from `GOOGLE_CLOUD_PROJECT`).",
  },
  region: {
    env: "FUNCTION_REGION",
    type: "string",
    default: "us-central1",
    scope: "platform",
    description: "Region of the task-queue function.",
  },
  emulator: {
    env: "FUNCTIONS_EMULATOR",
    type: "bool",
    default: false,
    scope: "platform",
    description: "Set by the Functions emulator.",
  },
  ...EVENT_SETTINGS,
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof SETTINGS;

type ValueOf<S> = S extends { type: "int" | "number" }
  ? number
  : S extends { type: "bool" }
    ? boolean
    : S extends { type: "enum"; options: readonly (infer O)[]; default: null }
      ? O | null
      : S extends { type: "enum"; options: readonly (infer O)[] }
        ? O
        : S extends { default: null }
          ? string | null
          : string;

/** The parsed configuration: one field per setting. */
export type ServiceConfig = { -readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };
