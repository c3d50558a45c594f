import type { Firestore } from "firebase-admin/firestore";
import { FirestoreOutbox } from "../adapters/firestore/firestoreOutbox";
import { MemoryOutbox } from "../adapters/memory/memoryOutbox";
import { MemoryPublisher } from "../adapters/memory/memoryPublisher";
import type { MemoryState } from "../adapters/memory/memoryState";
import { PubSubPublisher } from "../adapters/pubsub/pubsubPublisher";
import { CloudTasksDrainRequester, InProcessDrainRequester } from "../adapters/eventDrains";
import type { ServiceConfig } from "../config/settings";
import { logs } from "../observability/logs";
import type { DrainRequester, EventPublisher } from "../ports/events";
import { EventRelay } from "../usecases/events/relay";

/**
 * Pub/Sub for the events topic. Without a project to publish in (no GCLOUD_PROJECT: a test, a tool), or
 * under the Functions emulator without a Pub/Sub emulator, a publisher that refuses: the events stay in
 * the outbox, as they would while Pub/Sub is down, and nothing reaches for the real service.
 */
export function eventPublisher(config: ServiceConfig): EventPublisher {
  const offline = !config.pubsubEmulatorHost && (config.emulator || !config.projectId);
  if (!offline) return new PubSubPublisher(config.eventsTopic, config.projectId);
  logs.events("no Pub/Sub to publish to (no emulator, or no project): events stay in the outbox", {});
  return new MemoryPublisher(true);
}

/** The outbox over the chosen storage, and the relay that publishes it (see usecases/events/relay). */
export function composeEvents(o: {
  config: ServiceConfig;
  clock: () => Date;
  firestore: Firestore | null;
  memory: MemoryState;
  publisher?: EventPublisher | undefined;
  inProcess: boolean;
}): EventRelay {
  const outbox = o.firestore
    ? new FirestoreOutbox(o.firestore, o.clock, o.config.firestoreTimeoutMs)
    : new MemoryOutbox(o.memory, o.clock);
  let relay: EventRelay | null = null;
  const drains: DrainRequester = o.inProcess
    ? new InProcessDrainRequester(() => relay!.drain())
    : new CloudTasksDrainRequester(o.config.region ?? "us-central1", o.clock);
  relay = new EventRelay({
    outbox,
    publisher: o.publisher ?? eventPublisher(o.config),
    drains,
    clock: o.clock,
  });
  return relay;
}
