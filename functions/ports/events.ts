import type { OutboxEvent, WireMessage } from "../domain/events";

/**
 * Where a page of pending events ended: the next page starts after it. The outbox id breaks ties: keys of
 * one shard may share a `seq` (salts created in the same millisecond).
 */
export interface OutboxCursor {
  readonly shard: number;
  readonly seq: string;
  readonly outboxId: string;
}

/** An event waiting in the outbox, with the id of its outbox record. */
export interface PendingEvent extends OutboxEvent {
  readonly outboxId: string;
}

/**
 * The outbox: events are written into it by the commit that makes the change
 * (each storage adapter stages them on its own batch or transaction), and leave
 * it when Pub/Sub has accepted them. What is marked published expires later.
 */
export interface EventOutbox {
  /**
   * Pending events in (shard, `seq`, outbox id) order, after `after` when given, at most `limit`. A key's events all
   * share one shard, so each key's come in `seq` order; a drain pages through every shard once per run.
   */
  pending(limit: number, after?: OutboxCursor | null): Promise<PendingEvent[]>;
  /** Every pending event of these keys (few: what one call committed). */
  pendingOf(keys: readonly string[]): Promise<PendingEvent[]>;
  /** Records that Pub/Sub accepted them; they expire PUBLISHED_RETENTION_MS later. */
  markPublished(outboxIds: readonly string[]): Promise<void>;
  /** How many events are waiting (status and tests). */
  countPending(): Promise<number>;
}

/**
 * Pub/Sub. Messages with one ordering key are sent in the order given, and a
 * refused one refuses the rest of its key in the same call. Never throws:
 * resolves, per message, whether Pub/Sub accepted it within `timeoutMs`.
 */
export interface EventPublisher {
  publish(messages: readonly WireMessage[], timeoutMs: number): Promise<boolean[]>;
  /** Set when there is no Pub/Sub to publish to at all (no project, no emulator): nothing is attempted. */
  readonly offline?: boolean;
}

/** Told by a storage adapter, after a commit that staged events, which keys they belong to. */
export interface CommitListener {
  committed(keys: readonly string[]): void;
}

/** Asks for the backstop drain to run soon (a Cloud Tasks task, or this process). */
export interface DrainRequester {
  request(): Promise<void>;
}
