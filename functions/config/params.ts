import { defineBoolean, defineInt, defineSecret, defineString } from "firebase-functions/params";

/**
 * Every tunable of the service, declared once with its default and description so
 * `firebase deploy` prompts for it and the emulator reads it from `.env` files.
 */
export const USER_SALT_ROTATION_DAYS = defineInt("USER_SALT_ROTATION_DAYS", {
  default: 90,
  description: "Days between rotations of a per-user salt.",
});
export const GLOBAL_SALT_ROTATION_DAYS = defineInt("GLOBAL_SALT_ROTATION_DAYS", {
  default: 30,
  description: "Days between rotations of a global (event-type) salt.",
});
export const SALT_BACKEND = defineString("SALT_BACKEND", {
  default: "firestore",
  description: "Where salts live: firestore (production) or memory (tests and demos; per instance).",
  input: { select: { options: [{ value: "firestore" }, { value: "memory" }] } },
});
export const SALT_HISTORY_RETENTION_DAYS = defineInt("SALT_HISTORY_RETENTION_DAYS", {
  default: 30,
  description: "Days a retired salt version is kept so pseudonyms made under it can still be linked.",
});
export const ADMIN_RATE_LIMIT_PER_MINUTE = defineInt("ADMIN_RATE_LIMIT_PER_MINUTE", {
  default: 60,
  description: "Calls per minute each caller may make to each admin function, shared by all instances.",
});
/**
 * Schedule (UTC) of salts-integritySweep. onSchedule takes a plain string, so it is
 * read when the code is loaded; firebase-tools loads `.env` files before that at deploy.
 */
export const SWEEP_SCHEDULE = process.env.SWEEP_SCHEDULE || "every 24 hours";
export const FIRESTORE_TIMEOUT_MS = defineInt("FIRESTORE_TIMEOUT_MS", {
  default: 20000,
  description: "Milliseconds a storage operation may take before the call answers unavailable.",
});
export const SALT_CACHE_TTL_SECONDS = defineInt("SALT_CACHE_TTL_SECONDS", {
  default: 60,
  description: "Seconds a loaded salt is reused for pseudonymization before it is read again.",
});
export const SETTINGS_REFRESH_SECONDS = defineInt("SETTINGS_REFRESH_SECONDS", {
  default: 30,
  description:
    "Seconds an instance keeps the intervals in force before re-reading what the last reload activated.",
});
export const JOB_STALE_SECONDS = defineInt("JOB_STALE_SECONDS", {
  default: 900,
  description:
    "A running job whose workers wrote nothing for this long is reported failed (its worker died).",
});
export const ROTATE_INLINE_LIMIT = defineInt("ROTATE_INLINE_LIMIT", {
  default: 2000,
  description: "Due salts a batch job rotates inside the call; above this it fans out to the task queue.",
});
export const ROTATION_PAGE_SIZE = defineInt("ROTATION_PAGE_SIZE", {
  default: 5000,
  description:
    "Due salts a batch job lists per query (held in memory at once; progress is checkpointed per page).",
});
export const ROTATION_SHARD_SIZE = defineInt("ROTATION_SHARD_SIZE", {
  default: 500,
  description: "Salts per task-queue shard of a fan-out batch job.",
});
export const ROTATION_CONCURRENCY = defineInt("ROTATION_CONCURRENCY", {
  default: 16,
  description: "Rotations one worker runs in parallel.",
});
export const ENABLE_METRICS = defineBoolean("ENABLE_METRICS", {
  default: false,
  description: "Serve Prometheus metrics at salts-metrics.",
});
export const ENABLE_DEV_ENDPOINTS = defineBoolean("ENABLE_DEV_ENDPOINTS", {
  default: false,
  description: "Enable salts-pseudonymizeTest (development only).",
});
export const ENFORCE_APP_CHECK = defineBoolean("ENFORCE_APP_CHECK", {
  default: false,
  description: "Require a valid App Check token on every callable.",
});

export const PSEUDONYM_PEPPER = defineSecret("PSEUDONYM_PEPPER", {
  description: "HMAC key of every pseudonym: at least 32 random bytes.",
});
export const SALT_ENCRYPTION_KEY = defineSecret("SALT_ENCRYPTION_KEY", {
  description: "AES-256 key (32 bytes, hex or base64) encrypting salts at rest.",
});
export const METRICS_TOKEN = defineSecret("METRICS_TOKEN", {
  description: "Bearer token a Prometheus scraper presents to salts-metrics.",
});
