import type { WireMessage } from "../../domain/events";
import type { EventPublisher } from "../../ports/events";

/**
 * A publisher in this process (tests, and the functions emulator when no
 * Pub/Sub emulator runs): it keeps what it accepted, in order. `refuse` makes it
 * refuse everything (an outage) or what a predicate picks; a refused message
 * refuses the rest of its ordering key in the same call, as Pub/Sub's client does.
 */
export class MemoryPublisher implements EventPublisher {
  readonly accepted: WireMessage[] = [];
  refuse: boolean | ((m: WireMessage) => boolean) = false;
  calls = 0;

  /** `offline`: stands for no Pub/Sub at all (see app/events.ts): it refuses everything and says so. */
  constructor(readonly offline = false) {
    if (offline) this.refuse = true;
  }

  async publish(messages: readonly WireMessage[], _timeoutMs?: number): Promise<boolean[]> {
    await Promise.resolve();
    this.calls++;
    const paused = new Set<string>();
    return messages.map((m) => {
      const refused =
        (m.orderingKey !== undefined && paused.has(m.orderingKey)) ||
        (typeof this.refuse === "function" ? this.refuse(m) : this.refuse);
      if (refused) {
        if (m.orderingKey !== undefined) paused.add(m.orderingKey);
        return false;
      }
      this.accepted.push(structuredClone(m));
      return true;
    });
  }

  /** The messages accepted, parsed. */
  get events(): Record<string, unknown>[] {
    return this.accepted.map((m) => JSON.parse(m.data) as Record<string, unknown>);
  }
}
