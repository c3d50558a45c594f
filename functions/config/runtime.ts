import { z } from "zod";
import { failedPrecondition } from "../domain/errors";
import type { RotationPolicy } from "../domain/policy";
import * as P from "./params";

type IntParam = typeof P.USER_SALT_ROTATION_DAYS;
type BoolParam = typeof P.ENABLE_METRICS;
type StringParam = typeof P.SALT_BACKEND;

// Outside the Functions runtime (tests, CLI, bench) params read 0 / "" for unset
// variables, so the declared default is applied here, in one place.
const env = (name: string): string | undefined => {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : v;
};
const intOf = (p: IntParam, fallback: number): number => (env(p.name) === undefined ? fallback : p.value());
const boolOf = (p: BoolParam): boolean => (env(p.name) === undefined ? false : p.value());
const stringOf = (p: StringParam, fallback: string): string =>
  env(p.name) === undefined ? fallback : p.value();

const configSchema = z.object({
  userDays: z.number().int().min(1).max(3650),
  globalDays: z.number().int().min(1).max(3650),
  backend: z.enum(["firestore", "memory"]),
  retentionDays: z.number().int().min(0).max(3650),
  rateLimitPerMinute: z.number().int().min(1).max(100000),
  firestoreTimeoutMs: z.number().int().min(100).max(600000),
  cacheTtlSeconds: z.number().int().min(0).max(86400),
  inlineLimit: z.number().int().min(0).max(1_000_000),
  jobStaleSeconds: z.number().int().min(1).max(86400),
  settingsRefreshSeconds: z.number().int().min(0).max(3600),
  shardSize: z.number().int().min(1).max(5000),
  pageSize: z.number().int().min(1).max(10000),
  concurrency: z.number().int().min(1).max(256),
  enableMetrics: z.boolean(),
  enableDevEndpoints: z.boolean(),
  enforceAppCheck: z.boolean(),
});

export type ServiceConfig = z.infer<typeof configSchema>;

/** Reads and validates every param; a bad value is a clear failed-precondition, not a guess. */
export function readConfig(): ServiceConfig {
  const parsed = configSchema.safeParse({
    userDays: intOf(P.USER_SALT_ROTATION_DAYS, 90),
    globalDays: intOf(P.GLOBAL_SALT_ROTATION_DAYS, 30),
    backend: stringOf(P.SALT_BACKEND, "firestore"),
    retentionDays: intOf(P.SALT_HISTORY_RETENTION_DAYS, 30),
    rateLimitPerMinute: intOf(P.ADMIN_RATE_LIMIT_PER_MINUTE, 60),
    firestoreTimeoutMs: intOf(P.FIRESTORE_TIMEOUT_MS, 20000),
    cacheTtlSeconds: intOf(P.SALT_CACHE_TTL_SECONDS, 60),
    inlineLimit: intOf(P.ROTATE_INLINE_LIMIT, 2000),
    jobStaleSeconds: intOf(P.JOB_STALE_SECONDS, 900),
    settingsRefreshSeconds: intOf(P.SETTINGS_REFRESH_SECONDS, 30),
    shardSize: intOf(P.ROTATION_SHARD_SIZE, 500),
    pageSize: intOf(P.ROTATION_PAGE_SIZE, 5000),
    concurrency: intOf(P.ROTATION_CONCURRENCY, 16),
    enableMetrics: boolOf(P.ENABLE_METRICS),
    enableDevEndpoints: boolOf(P.ENABLE_DEV_ENDPOINTS),
    enforceAppCheck: boolOf(P.ENFORCE_APP_CHECK),
  });
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
    throw failedPrecondition(`Invalid service configuration: ${fields}`);
  }
  return parsed.data;
}

export const policyOf = (c: ServiceConfig): RotationPolicy => ({
  userDays: c.userDays,
  globalDays: c.globalDays,
});
