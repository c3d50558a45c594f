import { randomUUID } from "node:crypto";
import { encodeDocId, indexShard, type SaltKind } from "./ids";
import type { JobRecord, JobState, JobType } from "./jobs";
import type { SaltRecord } from "./salt";

/**
 * Events downstream pipelines act on (API.md "Events"). Each is recorded in an
 * outbox in the same commit as the change it tells of, and published to Pub/Sub
 * after it. This module decides what an event says, its order among the events
 * of the same salt, and which events a publication attempt may mark as done.
 * An event names a salt by kind and id and a version by number: never a salt,
 * a pepper, a key or a pseudonym.
 */
export const EVENT_TYPES = ["salt.created", "salt.rotated", "subject.erased", "job.finished"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The message data, exactly as published (JSON). */
export interface EventMessage {
  event_id: string;
  type: EventType;
  at: string;
  kind?: SaltKind;
  id?: string;
  version?: number;
  rotation_id?: string;
  versions_destroyed?: number;
  job_id?: string;
  job_type?: JobType;
  state?: JobState;
  processed?: number;
  failed?: number;
  correlation_id: string;
}

/** An event as the outbox keeps it until Pub/Sub has accepted it. */
export interface OutboxEvent {
  message: EventMessage;
  /** Events of one key are published in `seq` order: `<kind>:<id>` for a salt, `job:<id>` for a job. */
  key: string;
  /** Orders the events of one key (fixed width, so strings compare as the numbers they hold). */
  seq: string;
  /** The Pub/Sub ordering key: salt events only. */
  orderingKey: string | null;
  /** The key's index shard: the outbox is drained a shard range at a time. */
  shard: number;
}

/** How long a published event stays in the outbox before its TTL deletes it (for inspection and replay). */
export const PUBLISHED_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** The correlation id of a salt created on first use by the library, which no call names. */
export const LIBRARY_CORRELATION_ID = "library";

export const saltEventKey = (kind: SaltKind, id: string): string => `${kind}:${id}`;
export const jobEventKey = (jobId: string): string => `job:${jobId}`;

const pad = (n: number, width: number) => String(Math.max(0, Math.floor(n))).padStart(width, "0");

/**
 * A salt's events in the order of its changes. Within one life of a salt the
 * version orders them (each commit is conditioned on the version it read);
 * across an erasure and a later re-creation, the new life's creation time is
 * later than the erased one's, so its events sort after the erasure.
 */
export const saltSeq = (createdAt: Date, version: number): string =>
  `${pad(createdAt.getTime(), 15)}.${pad(version, 10)}`;

function outboxEvent(message: EventMessage, key: string, seq: string, ordered: boolean): OutboxEvent {
  const shardOf = message.kind && message.id !== undefined ? message.id : (message.job_id ?? key);
  return {
    message,
    key,
    seq,
    orderingKey: ordered ? key : null,
    shard: indexShard(encodeDocId(shardOf)),
  };
}

/** `salt.created` (version 1) or `salt.rotated` (any later version) for the record a commit wrote. */
export function saltChanged(record: SaltRecord, at: Date, correlationId: string): OutboxEvent {
  const message: EventMessage = {
    event_id: randomUUID(),
    type: record.version === 1 ? "salt.created" : "salt.rotated",
    at: at.toISOString(),
    kind: record.kind,
    id: record.id,
    version: record.version,
    ...(record.last_rotation_id ? { rotation_id: record.last_rotation_id } : {}),
    correlation_id: correlationId,
  };
  const key = saltEventKey(record.kind, record.id);
  return outboxEvent(message, key, saltSeq(record.created_at, record.version), true);
}

/** `subject.erased`: after every event of the salt's life (`current` is what the erase deleted, if any). */
export function subjectErased(
  kind: SaltKind,
  id: string,
  current: SaltRecord | null,
  erase: { versionsDestroyed: number; rotationId: string; at: Date; correlationId: string },
): OutboxEvent {
  const message: EventMessage = {
    event_id: randomUUID(),
    type: "subject.erased",
    at: erase.at.toISOString(),
    kind,
    id,
    versions_destroyed: erase.versionsDestroyed,
    rotation_id: erase.rotationId,
    correlation_id: erase.correlationId,
  };
  const seq = current ? saltSeq(current.created_at, current.version + 1) : saltSeq(erase.at, 0);
  return outboxEvent(message, saltEventKey(kind, id), seq, true);
}

/** `job.finished`, once, when a job reaches `done` or `failed`. */
export function jobFinished(
  job: Pick<JobRecord, "job_id" | "type" | "correlation_id"> & { state: JobState },
  counts: { done: number; failed: number },
  at: Date,
): OutboxEvent {
  const message: EventMessage = {
    event_id: randomUUID(),
    type: "job.finished",
    at: at.toISOString(),
    job_id: job.job_id,
    job_type: job.type,
    state: job.state,
    processed: counts.done,
    failed: counts.failed,
    correlation_id: job.correlation_id,
  };
  return outboxEvent(message, jobEventKey(job.job_id), saltSeq(at, 0), false);
}

/** What is sent to Pub/Sub for an event: the JSON data, the attributes, the ordering key. */
export interface WireMessage {
  data: string;
  attributes: { event_id: string; type: EventType };
  orderingKey?: string;
}

export function toWire(event: OutboxEvent): WireMessage {
  return {
    data: JSON.stringify(event.message),
    attributes: { event_id: event.message.event_id, type: event.message.type },
    ...(event.orderingKey ? { orderingKey: event.orderingKey } : {}),
  };
}

/** Pending events in the order they are handed to Pub/Sub: grouped by key, each key's in `seq` order. */
export function publicationOrder<E extends OutboxEvent>(events: readonly E[]): E[] {
  const byKey = new Map<string, E[]>();
  for (const e of events) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e]);
  return [...byKey.values()].flatMap((list) =>
    list.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0)),
  );
}

/**
 * Of events in publication order and whether Pub/Sub accepted each, those that
 * may be marked published: per key, the accepted events before its first
 * refusal. An event after a refused one of its key stays pending even if it was
 * accepted, so the next attempt publishes the key's events again in order (a
 * consumer dedupes on `event_id`; no event ever overtakes an earlier one).
 */
export function acceptedInOrder<E extends OutboxEvent>(
  ordered: readonly E[],
  accepted: readonly boolean[],
): E[] {
  const blocked = new Set<string>();
  const out: E[] = [];
  ordered.forEach((e, i) => {
    if (blocked.has(e.key)) return;
    if (accepted[i]) out.push(e);
    else blocked.add(e.key);
  });
  return out;
}

/** Drain requests within one window share one task: at most one task per window, whatever the traffic. */
export const DRAIN_WINDOW_MS = 5_000;
/** A drain starts this long after its window's end by its own clock, so that instances' clocks may differ a little. */
const WINDOW_MARGIN_MS = 250;

/** What a drain task carries: the end of the window whose commits it must see (ms since the epoch). */
export interface DrainTaskData {
  drain: true;
  after?: number;
}

/**
 * How long a drain task waits before it reads the outbox: until its window has ended (plus a margin), by
 * this instance's clock. Cloud Tasks already holds the task until then (its schedule time), so this is ~0
 * there; a queue that dispatches at once (the Firebase emulator ignores schedule times) would otherwise run
 * the drain before the window's later commits, which asked for no other task. Never more than a window.
 */
export function drainWaitMs(data: unknown, now: number): number {
  const after = (data as Partial<DrainTaskData> | null)?.after;
  if (typeof after !== "number" || !Number.isFinite(after)) return 0;
  return Math.min(DRAIN_WINDOW_MS + WINDOW_MARGIN_MS, Math.max(0, after + WINDOW_MARGIN_MS - now));
}
