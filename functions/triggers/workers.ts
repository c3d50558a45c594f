/** The non-callable triggers: the job task worker, the scheduled sweep and the metrics endpoint. */
import { onRequest } from "firebase-functions/https";
import { onSchedule } from "firebase-functions/scheduler";
import { onTaskDispatched, type Request as TaskRequest } from "firebase-functions/tasks";
import { METRICS_TOKEN } from "../config/params";
import { rampOf } from "../config/config";
import { queueLimits, WRITES_PER_ROTATION } from "../domain/ramp";
import { loadOnFirstCall } from "./lazy";
import { deployed, runAs, workerSecrets } from "./options";

const MAX_ATTEMPTS = 5;
// The queue's limits come from the same ramp the jobs follow, so it never dispatches faster than the ceiling absorbs.
const limits = queueLimits(rampOf(deployed), deployed.shardSize, WRITES_PER_ROTATION);

// Each handler, with its use case and clients, loads on its function's first call (triggers/lazy.ts).

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
  loadOnFirstCall(async () => {
    const [{ services }, { runJobTask }] = await Promise.all([
      import("../app/instance.js"),
      import("../edge/tasks.js"),
    ]);
    return (request: TaskRequest<unknown>) => runJobTask(services(), request, MAX_ATTEMPTS);
  }),
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
  loadOnFirstCall(async () => {
    const [{ services }, { runSweep }] = await Promise.all([
      import("../app/instance.js"),
      import("../usecases/sweep.js"),
    ]);
    return async (event) => {
      const s = services();
      await runSweep(s, {
        correlationId: `sweep-${event.scheduleTime}`,
        actor: { uid: "scheduler", via: "scheduler" },
      }).finally(() => s.events.flush());
    };
  }),
);

export const metrics = onRequest(
  { secrets: [METRICS_TOKEN], ...runAs(deployed.metricsServiceAccount) },
  loadOnFirstCall(async () => {
    const [{ services }, { injectedSecret }, { serveMetrics }] = await Promise.all([
      import("../app/instance.js"),
      import("../app/secrets.js"),
      import("../edge/metricsEndpoint.js"),
    ]);
    return (req, res) => serveMetrics(services(), injectedSecret(METRICS_TOKEN.name), req, res);
  }),
);
