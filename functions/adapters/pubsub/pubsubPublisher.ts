import type { Topic } from "@google-cloud/pubsub";
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
 * can go through. One attempt gives up after `timeoutMs`: the outbox keeps
 * what was not accepted for the next one. Loaded on first use (cold starts).
 */
export class PubSubPublisher implements EventPublisher {
  private topic: Promise<Topic> | null = null;

  constructor(
    private readonly topicName: string,
    private readonly projectId: string | null,
    private readonly timeoutMs = 10_000,
  ) {}

  private open(): Promise<Topic> {
    this.topic ??= import("@google-cloud/pubsub").then(({ PubSub }) => {
      const client = new PubSub(this.projectId ? { projectId: this.projectId } : {});
      const rpc = Math.min(this.timeoutMs, 5_000);
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
              totalTimeoutMillis: this.timeoutMs,
            },
          },
        },
      });
    });
    return this.topic;
  }

  async publish(messages: readonly WireMessage[]): Promise<boolean[]> {
    if (messages.length === 0) return [];
    let topic: Topic;
    try {
      topic = await this.open();
    } catch (e) {
      this.topic = null;
      logs.events("the Pub/Sub client could not be loaded", {}, e);
      return messages.map(() => false);
    }
    const results = await Promise.allSettled(
      messages.map((m) =>
        topic.publishMessage({
          data: Buffer.from(m.data, "utf8"),
          attributes: { ...m.attributes },
          ...(m.orderingKey ? { orderingKey: m.orderingKey } : {}),
        }),
      ),
    );
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
    }
    return results.map((r) => r.status === "fulfilled");
  }
}
