import { PUBLISHED_RETENTION_MS, type OutboxEvent } from "../../domain/events";
import type { EventOutbox, OutboxCursor, PendingEvent } from "../../ports/events";
import { byDocId, type MemoryState } from "./memoryState";

/** Stages `event` in the outbox within the caller's atomic step (the change it tells of). */
export function stageEvent(state: MemoryState, event: OutboxEvent, now: Date): void {
  state.outbox.set(event.message.event_id, {
    event: structuredClone(event),
    pending: true,
    createdAt: now,
    expiresAt: null,
  });
}

const compare = (a: OutboxCursor, b: OutboxCursor) =>
  a.shard - b.shard || byDocId(a.seq, b.seq) || byDocId(a.outboxId, b.outboxId);

/** The outbox of the memory backend: the same queue, order and expiry as Firestore's, per process. */
export class MemoryOutbox implements EventOutbox {
  constructor(
    private readonly state: MemoryState,
    private readonly clock: () => Date,
  ) {}

  /** Pending records, dropping published ones past their expiry (as the TTL policy would). */
  private live(): PendingEvent[] {
    const now = this.clock();
    const out: PendingEvent[] = [];
    for (const [id, stored] of this.state.outbox) {
      if (stored.expiresAt && stored.expiresAt <= now) this.state.outbox.delete(id);
      else if (stored.pending) out.push({ ...structuredClone(stored.event), outboxId: id });
    }
    return out.sort(compare);
  }

  async pending(limit: number, after: OutboxCursor | null = null): Promise<PendingEvent[]> {
    await Promise.resolve();
    return this.live()
      .filter((e) => after === null || compare(e, after) > 0)
      .slice(0, limit);
  }

  async pendingOf(keys: readonly string[]): Promise<PendingEvent[]> {
    await Promise.resolve();
    const wanted = new Set(keys);
    return this.live().filter((e) => wanted.has(e.key));
  }

  async markPublished(outboxIds: readonly string[]): Promise<void> {
    await Promise.resolve();
    const expiresAt = new Date(this.clock().getTime() + PUBLISHED_RETENTION_MS);
    for (const id of outboxIds) {
      const stored = this.state.outbox.get(id);
      if (stored) this.state.outbox.set(id, { ...stored, pending: false, expiresAt });
    }
  }

  async countPending(): Promise<number> {
    return (await this.pending(Number.MAX_SAFE_INTEGER)).length;
  }
}
