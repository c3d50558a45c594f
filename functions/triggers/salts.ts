/**
 * The `salts` function group: thin trigger declarations only. Each one names its
 * use case, role and schema; the pipeline in edge/callable.ts does the rest.
 */
import { onInit } from "firebase-functions";
import { onCall, onRequest, type CallableOptions } from "firebase-functions/https";
import { onSchedule } from "firebase-functions/scheduler";
import { onTaskDispatched } from "firebase-functions/tasks";
import { failingAfter, takeShardFault } from "../app/faultInjection";
import { adminFirestore, runtime } from "../app/runtime";
import {
  ENFORCE_APP_CHECK,
  METRICS_TOKEN,
  PSEUDONYM_PEPPER,
  SALT_ENCRYPTION_KEY,
  SWEEP_SCHEDULE,
} from "../config/params";
import { handleCall, type CallableSpec } from "../edge/callable";
import { serveMetrics } from "../edge/metricsEndpoint";
import { schemas } from "../edge/schemas";
import { logs } from "../observability/logs";
import { auditLog as auditLogUseCase, auditUser } from "../usecases/audit";
import { eraseUser } from "../usecases/erase";
import { pseudonymizeTest as pseudonymizeTestUseCase } from "../usecases/pseudonymizeTest";
import { refreshPolicy, reloadConfig as reloadConfigUseCase } from "../usecases/reloadConfig";
import { rotateSalt } from "../usecases/rotateSalt";
import { jobStatus, runTask, startRotateDue } from "../usecases/rotationJob";
import { getStatus } from "../usecases/status";
import { runSweep } from "../usecases/sweep";
import type { z } from "zod";

// Build the runtime and read the intervals in force before the first request.
onInit(async () => {
  const rt = runtime();
  try {
    await refreshPolicy(rt, true);
  } catch (e) {
    logs.unexpectedError("init", "init", e);
  }
});

const options: CallableOptions = {
  secrets: [PSEUDONYM_PEPPER, SALT_ENCRYPTION_KEY],
  enforceAppCheck: ENFORCE_APP_CHECK,
};

function callable<S extends z.ZodType, R extends object>(spec: CallableSpec<S, R>) {
  return onCall(options, (request) => handleCall(spec, request));
}

export const status = callable({
  operation: "status",
  role: "auditor",
  mutating: false,
  schema: schemas.status,
  run: (rt) => getStatus(rt),
});

export const rotateUser = callable({
  operation: "rotate_user",
  role: "admin",
  mutating: true,
  schema: schemas.rotateUser,
  run: (rt, ctx, i) => rotateSalt(rt, ctx, "user", i.user_id, { force: i.force, reason: i.reason }),
});

export const rotateGlobal = callable({
  operation: "rotate_global",
  role: "admin",
  mutating: true,
  schema: schemas.rotateGlobal,
  run: (rt, ctx, i) => rotateSalt(rt, ctx, "global", i.event_type, { force: i.force, reason: i.reason }),
});

export const rotateDue = callable({
  operation: "rotate_due",
  role: "admin",
  mutating: true,
  schema: schemas.rotateDue,
  run: (rt, ctx, i) => startRotateDue(rt, ctx, i),
});

export const job = callable({
  operation: "job",
  role: "auditor",
  mutating: false,
  schema: schemas.job,
  run: (rt, _ctx, i) => jobStatus(rt, i.job_id),
});

export const audit = callable({
  operation: "audit",
  role: "auditor",
  mutating: false,
  schema: schemas.audit,
  run: (rt, ctx, i) => auditUser(rt, ctx, i.user_id),
});

export const auditLog = callable({
  operation: "audit_log",
  role: "auditor",
  mutating: false,
  schema: schemas.auditLog,
  run: (rt, _ctx, i) => auditLogUseCase(rt, i),
});

export const erase = callable({
  operation: "erase",
  role: "admin",
  mutating: true,
  schema: schemas.erase,
  run: (rt, ctx, i) => eraseUser(rt, ctx, i.user_id, i.reason),
});

export const reloadConfig = callable({
  operation: "reload",
  role: "admin",
  mutating: true,
  schema: schemas.reloadConfig,
  run: (rt, ctx) => reloadConfigUseCase(rt, ctx),
});

export const pseudonymizeTest = callable({
  operation: "pseudonymize_test",
  role: "admin",
  mutating: true,
  schema: schemas.pseudonymizeTest,
  run: (rt, ctx, i) => pseudonymizeTestUseCase(rt, ctx, i),
});

export const metrics = onRequest({ secrets: [METRICS_TOKEN, SALT_ENCRYPTION_KEY] }, (req, res) =>
  serveMetrics(runtime(), req, res),
);

/** Batch-rotation work fanned out by salts-rotateDue and the sweep: one plan step or one shard per task. */
export const rotateShard = onTaskDispatched(
  {
    secrets: [PSEUDONYM_PEPPER, SALT_ENCRYPTION_KEY],
    retryConfig: { maxAttempts: 5, minBackoffSeconds: 5, maxBackoffSeconds: 300 },
    rateLimits: { maxConcurrentDispatches: 20 },
    timeoutSeconds: 540,
    memory: "512MiB",
  },
  async (request) => {
    const rt = runtime();
    const correlationId = `task-${request.id ?? "local"}`;
    const finalAttempt = (request.retryCount ?? 0) >= 4;
    await refreshPolicy(rt);
    // Emulator-only test hook; null (a no-op) everywhere else.
    const fault = request.data.type === "shard" ? await takeShardFault(adminFirestore()) : null;
    const worker = fault === null ? rt : { ...rt, backend: failingAfter(rt.backend, fault) };
    await runTask(
      worker,
      { correlationId, actor: { uid: "rotation-task", via: "task" } },
      request.data,
      finalAttempt,
    );
  },
);

export const integritySweep = onSchedule(
  {
    schedule: SWEEP_SCHEDULE,
    timeZone: "UTC",
    retryCount: 3,
    secrets: [PSEUDONYM_PEPPER, SALT_ENCRYPTION_KEY],
    timeoutSeconds: 1800,
    memory: "1GiB",
  },
  async (event) => {
    await runSweep(runtime(), {
      correlationId: `sweep-${event.scheduleTime}`,
      actor: { uid: "scheduler", via: "scheduler" },
    });
  },
);

/**
 * Emulator only (never deployed): a callable that does nothing, the baseline the
 * benchmark measures salts-rotateUser against in the same run.
 */
export const benchNoop = process.env.FUNCTIONS_EMULATOR === "true" ? onCall(() => ({ ok: true })) : undefined;
