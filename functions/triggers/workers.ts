/** The non-callable triggers: the job task worker, the scheduled sweep and the metrics endpoint. */
import { logger } from "firebase-functions";
import { onRequest } from "firebase-functions/https";
import { onSchedule } from "firebase-functions/scheduler";
import { onTaskDispatched } from "firebase-functions/tasks";
import { services } from "../app/instance";
import { injectedSecret } from "../app/secrets";
import { METRICS_TOKEN } from "../config/params";
import { rampOf } from "../config/config";
import { queueLimits, WRITES_PER_ROTATION } from "../domain/ramp";
import { isSaltServiceError } from "../domain/errors";
import { serveMetrics } from "../edge/metricsEndpoint";
import { parseJobTask } from "../edge/tasks";
import { runTask } from "../usecases/jobs/fanout";
import { JOB_SPECS } from "../usecases/jobs/kinds";
import { runSweep } from "../usecases/sweep";
import { deployed, runAs, workerSecrets } from "./options";

const MAX_ATTEMPTS = 5;
// The queue's limits come from the same ramp the jobs follow, so it never dispatches faster than the ceiling absorbs.
const limits = queueLimits(rampOf(deployed), deployed.shardSize, WRITES_PER_ROTATION);

/** Batch-job work fanned out by salts-rotateDue and the sweep: one plan step or one shard per task. */
export const rotateShard = onTaskDispatched(
  {
    secrets: workerSecrets,
    ...runAs(deployed.serviceAccount),
    retryConfig: { maxAttempts: MAX_ATTEMPTS, minBackoffSeconds: 5, maxBackoffSeconds: 300 },
    rateLimits: limits,
    timeoutSeconds: 540,
    memory: "512MiB",
  },
  async (request) => {
    let task;
    try {
      task = parseJobTask(request.data);
    } catch (e) {
      // A malformed task will never succeed: drop it (answering success) rather than retry it.
      logger.error("malformed job task dropped", { issues: isSaltServiceError(e) ? e.details : null });
      return;
    }
    const s = services();
    await s.policy.refresh();
    const ctx = {
      correlationId: `task-${request.id ?? "local"}`,
      actor: { uid: "job-task", via: "task" as const },
    };
    try {
      await runTask(s, ctx, JOB_SPECS, task, (request.retryCount ?? 0) >= MAX_ATTEMPTS - 1);
    } finally {
      // A job's events go to Pub/Sub in the drain's batches, not from the shard.
      await s.events.flush({ toDrain: true });
    }
  },
);

export const integritySweep = onSchedule(
  {
    schedule: deployed.sweepSchedule,
    timeZone: "UTC",
    retryCount: 3,
    secrets: workerSecrets,
    ...runAs(deployed.serviceAccount),
    timeoutSeconds: 1800,
    memory: "1GiB",
  },
  async (event) => {
    const s = services();
    await runSweep(s, {
      correlationId: `sweep-${event.scheduleTime}`,
      actor: { uid: "scheduler", via: "scheduler" },
    }).finally(() => s.events.flush());
  },
);

export const metrics = onRequest(
  { secrets: [METRICS_TOKEN], ...runAs(deployed.metricsServiceAccount) },
  (req, res) => serveMetrics(services(), injectedSecret(METRICS_TOKEN.name), req, res),
);
