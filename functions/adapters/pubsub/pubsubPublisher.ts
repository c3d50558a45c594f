import type { PubSub, Topic } from "@google-cloud/pubsub";
import type { WireMessage } from "../../domain/events";
import { logs } from "../../observability/logs";
import type { EventPublisher } from "../../ports/events";

// gRPC codes a publish may be retried on within one attempt: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
// ABORTED, INTERNAL, UNAVAILABLE, UNKNOWN.
const RETRY_CODES = [4, 8, 10, 13, 14, 2];

/**
 * The events topic through @google-cloud/pubsub (the Pub/Sub emulator when
 * PUBSUB_EMULATOR_HOST is set). Ordering is enabled: the client sends each
 * ordering key's messages in order and, once one is refused, refuses the rest
 * of that key until `resumePublishing`, which is called after every refusal so
 * the next attempt (which starts again from the key's oldest pending event)
 * can go through. An attempt gives up after its `timeoutMs` (transient errors
 * retried within it): the outbox keeps what was not accepted for the next one.
 * Loaded on first use (cold starts).
 */
export class PubSubPublisher implements EventPublisher {
  private client: Promise<PubSub> | null = null;
  /** One topic handle per attempt deadline (a call's short one, the drain's longer one). */
  private readonly topics = new Map<number, Promise<Topic>>();

  constructor(
    private readonly topicName: string,
    private readonly projectId: string | null,
  ) {}

  private open(timeoutMs: number): Promise<Topic> {
    this.client ??= import("@google-cloud/pubsub").then(
      ({ PubSub }) => new PubSub(this.projectId ? { projectId: this.projectId } : {}),
    );
    const known = this.topics.get(timeoutMs);
    if (known) return known;
    const topic = this.client.then((client) => {
      const rpc = Math.min(timeoutMs, 5_000);
      return client.topic(this.topicName, {
        messageOrdering: true,
        batching: { maxMessages: 1000, maxMilliseconds: 10 },
        gaxOpts: {
          timeout: rpc,
          retry: {
            retryCodes: RETRY_CODES,
            backoffSettings: {
              initialRetryDelayMillis: 100,
              retryDelayMultiplier: 1.5,
              maxRetryDelayMillis: 1_000,
              initialRpcTimeoutMillis: rpc,
              rpcTimeoutMultiplier: 1,
              maxRpcTimeoutMillis: rpc,
              totalTimeoutMillis: timeoutMs,
            },
          },
        },
      });
    });
    this.topics.set(timeoutMs, topic);
    return topic;
  }

  async publish(messages: readonly WireMessage[], timeoutMs: number): Promise<boolean[]> {
    if (messages.length === 0) return [];
    let topic: Topic;
    try {
      topic = await this.open(timeoutMs);
    } catch (e) {
      this.reset();
      logs.events("the Pub/Sub client could not be loaded", {}, e);
      return messages.map(() => false);
    }
    const sent = messages.map((m) =>
      topic.publishMessage({
        data: Buffer.from(m.data, "utf8"),
        attributes: { ...m.attributes },
        ...(m.orderingKey ? { orderingKey: m.orderingKey } : {}),
      }),
    );
    // Everything this attempt has is queued: send it now rather than after the batching window (the drain,
    // or the CLI or library call that publishes, waits for it). A failed send fails the messages' own
    // promises, read below.
    topic.flush().catch(() => undefined);
    const results = await Promise.allSettled(sent);
    const refused = results.flatMap((r, i) => (r.status === "rejected" ? [{ r, m: messages[i]! }] : []));
    for (const key of new Set(refused.map((x) => x.m.orderingKey).filter((k) => k !== undefined)))
      topic.resumePublishing(key);
    if (refused.length > 0) {
      const first = refused[0]!.r as PromiseRejectedResult;
      logs.events(
        "Pub/Sub refused a publish",
        { refused: refused.length, topic: this.topicName },
        first.reason,
      );
      // A channel that lost its server backs off reconnecting for up to minutes: the next attempt starts afresh.
      this.reset();
    }
    return results.map((r) => r.status === "fulfilled");
  }

  private reset(): void {
    const client = this.client;
    this.client = null;
    this.topics.clear();
    void client?.then((c) => c.close()).catch(() => undefined);
  }
}
