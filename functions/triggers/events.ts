/** The event drain's triggers: on request (a task) and on a schedule (the backstop of the backstop). */
import { onSchedule } from "firebase-functions/scheduler";
import { onTaskDispatched } from "firebase-functions/tasks";
import { loadOnFirstCall } from "./lazy";
import { deployed, runAs } from "./options";

/**
 * Publishes what is pending in the outbox, asked for by the calls that committed events (one task per
 * 5-s window: adapters/eventDrains.ts), after that window has ended. One at a time; a drain Pub/Sub
 * refused is retried.
 */
export const publishEvents = onTaskDispatched(
  {
    ...runAs(deployed.serviceAccount),
    retryConfig: { maxAttempts: 50, minBackoffSeconds: 1, maxBackoffSeconds: 60 },
    rateLimits: { maxConcurrentDispatches: 1 },
    timeoutSeconds: 540,
  },
  loadOnFirstCall(async () => {
    const [{ services }, { drainWaitMs }] = await Promise.all([
      import("../app/instance.js"),
      import("../domain/events.js"),
    ]);
    return async (request: { data: unknown }) => {
      const wait = drainWaitMs(request.data, Date.now());
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await services().events.drain();
    };
  }),
);

/** Every minute (EVENTS_DRAIN_SCHEDULE): what an instance that stopped right after its commit left. */
export const drainEvents = onSchedule(
  {
    schedule: deployed.eventsDrainSchedule,
    timeZone: "UTC",
    ...runAs(deployed.serviceAccount),
    timeoutSeconds: 540,
  },
  loadOnFirstCall(async () => {
    const { services } = await import("../app/instance.js");
    return async () => {
      await services().events.drain();
    };
  }),
);
