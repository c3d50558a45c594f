import { acceptedInOrder, publicationOrder, toWire } from "../../domain/events";
import { unavailable } from "../../domain/errors";
import { logs } from "../../observability/logs";
import type {
  CommitListener,
  DrainRequester,
  EventOutbox,
  EventPublisher,
  OutboxCursor,
  PendingEvent,
} from "../../ports/events";

/** Keys a call may publish itself; a bulk change (a job, a batch of new users) leaves them to the drain. */
export const FLUSH_KEYS_MAX = 20;
/** Events one drain round reads, publishes and marks: one query, one publish batch, one commit. */
export const DRAIN_PAGE = 500;
/** After Pub/Sub refused, calls stop publishing themselves for this long and leave it to the drain. */
const QUIET_AFTER_FAILURE_MS = 30_000;
/** How long a call waits for Pub/Sub before answering anyway (its events are in the outbox). */
export const FLUSH_TIMEOUT_MS = 2_000;
/** How long one drain round waits for Pub/Sub. */
export const DRAIN_TIMEOUT_MS = 15_000;

export interface PublishReport {
  published: number;
  failed: number;
}

export interface DrainReport extends PublishReport {
  rounds: number;
}

export interface RelayDeps {
  outbox: EventOutbox;
  publisher: EventPublisher;
  drains: DrainRequester;
  clock: () => Date;
}

/**
 * Publishes what the outbox holds, at least once and in order per key. A
 * deployed function leaves what its call committed to the drain
 * (`flush({ toDrain: true })`: a task runs it at the end of the current window,
 * `drains.request`), so no answer waits for Pub/Sub; a process that has no task
 * queue (the CLI in direct mode, the library) publishes its own keys' pending
 * events itself (`flush`), and leaves to the drain what it cannot (Pub/Sub
 * refused, too many keys). A schedule also runs the drain every minute. Both
 * read pending events from the outbox, never from memory, so an instance that
 * dies after its commit loses nothing.
 *
 * Order: an attempt reads a key's pending events together (a commit's snapshot
 * holds every earlier one of its key), hands them to Pub/Sub in `seq` order,
 * and marks published only the accepted ones before the key's first refusal;
 * so event n+1 of a key is never marked, and never accepted by Pub/Sub, before
 * event n has been. Two attempts at once may publish an event twice: consumers
 * dedupe on `event_id`.
 */
export class EventRelay implements CommitListener {
  private readonly touched = new Set<string>();
  private overflow = false;
  private quietUntil = 0;

  constructor(private readonly deps: RelayDeps) {}

  committed(keys: readonly string[]): void {
    for (const k of keys) {
      if (this.touched.size >= FLUSH_KEYS_MAX) {
        this.overflow = true;
        return;
      }
      this.touched.add(k);
    }
  }

  /** Whether a flush has anything to do (a cheap check for hot paths). */
  get hasCommitted(): boolean {
    return this.touched.size > 0 || this.overflow;
  }

  /**
   * Publishes the pending events of the keys committed in this process since the last flush, or
   * asks for the drain (always, with `toDrain`: a job's work publishes nothing itself). Never throws:
   * the events are in the outbox whatever happens here.
   */
  async flush(options: { toDrain?: boolean } = {}): Promise<void> {
    if (!this.hasCommitted) return;
    if (this.deps.publisher.offline) {
      // No Pub/Sub here at all: the events wait in the outbox for a deployment that has one.
      this.touched.clear();
      this.overflow = false;
      return;
    }
    const keys = [...this.touched];
    const bulk = this.overflow || options.toDrain === true;
    this.touched.clear();
    this.overflow = false;
    if (bulk || this.deps.clock().getTime() < this.quietUntil) {
      await this.requestDrain();
      return;
    }
    try {
      const report = await this.publish(await this.deps.outbox.pendingOf(keys), FLUSH_TIMEOUT_MS);
      if (report.failed > 0) await this.requestDrain();
    } catch (e) {
      logs.events("publishing after the commit failed; left to the drain", { keys: keys.length }, e);
      await this.requestDrain();
    }
  }

  /**
   * The backstop: publishes every pending event, shard by shard and each key's in `seq` order, in rounds
   * of DRAIN_PAGE (each starting where the last one's page ended, so one run passes every shard once),
   * until none is left or `maxRounds` ran. Throws `unavailable` when Pub/Sub refused any (its caller, a
   * task or a schedule, is retried), after marking what was accepted.
   */
  async drain(options: { maxRounds?: number } = {}): Promise<DrainReport> {
    const report: DrainReport = { rounds: 0, published: 0, failed: 0 };
    const maxRounds = options.maxRounds ?? 200;
    let after: OutboxCursor | null = null;
    while (report.rounds < maxRounds) {
      const pending = await this.deps.outbox.pending(DRAIN_PAGE, after);
      if (pending.length === 0) break;
      after = pending[pending.length - 1]!; // an event is its own cursor: (shard, seq, outbox id)
      report.rounds++;
      const round = await this.publish(pending, DRAIN_TIMEOUT_MS);
      report.published += round.published;
      report.failed += round.failed;
      // A refusal stops this run: the next one starts again from the first shard's oldest pending event.
      if (round.failed > 0 || pending.length < DRAIN_PAGE) break;
    }
    if (report.rounds > 0) logs.events("drained", { ...report });
    if (report.failed > 0) throw unavailable(`Pub/Sub did not accept ${report.failed} event(s); retrying`);
    return report;
  }

  /** Hands pending events to Pub/Sub in order and marks what may be marked (see acceptedInOrder). */
  private async publish(pending: PendingEvent[], timeoutMs: number): Promise<PublishReport> {
    if (pending.length === 0) return { published: 0, failed: 0 };
    const ordered = publicationOrder(pending);
    const accepted = await this.deps.publisher.publish(ordered.map(toWire), timeoutMs);
    const done = acceptedInOrder(ordered, accepted);
    if (done.length > 0) await this.deps.outbox.markPublished(done.map((e) => e.outboxId));
    const failed = ordered.length - done.length;
    if (failed > 0) {
      this.quietUntil = this.deps.clock().getTime() + QUIET_AFTER_FAILURE_MS;
      logs.events("Pub/Sub refused events; they stay pending", { failed, published: done.length });
    }
    return { published: done.length, failed };
  }

  private async requestDrain(): Promise<void> {
    await this.deps.drains.request().catch((e: unknown) => {
      // The scheduled drain still finds them.
      logs.events("could not ask for a drain; the scheduled drain will publish", {}, e);
    });
  }
}
