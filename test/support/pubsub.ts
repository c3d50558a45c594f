import { createSubscription } from "../../scripts/lib/pubsub.mjs";
import { PROJECT_ID } from "./firestore";

/** The Pub/Sub emulator the test command started, or a loud failure: these tests never pass by not running. */
export function pubsubHost(): string {
  const host = process.env.PUBSUB_EMULATOR_HOST;
  if (!host) {
    throw new Error(
      "PUBSUB_EMULATOR_HOST is not set: run these tests through `npm test` or `node scripts/with-emulators.mjs` " +
        "on a machine with the Google Cloud CLI's Pub/Sub emulator",
    );
  }
  return host;
}

/** Stops or starts the Pub/Sub emulator behind its gate (scripts/lib/pubsub.mjs), as an outage would. */
export async function pubsubControl(
  action: "stop" | "start",
  body: { subscriptions?: { name: string; ordering?: boolean }[] } = {},
): Promise<void> {
  const control = process.env.PUBSUB_EMULATOR_CONTROL;
  if (!control)
    throw new Error("PUBSUB_EMULATOR_CONTROL is not set: the test command did not start the emulator");
  const res = await fetch(`${control}/${action}`, { method: "POST", body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`Pub/Sub ${action} failed: HTTP ${res.status} ${await res.text()}`);
}

export interface Received {
  data: string;
  attributes: Record<string, string>;
  orderingKey?: string;
  messageId: string;
}

/**
 * Pulls a subscription (with message ordering) over the emulator's REST API and acknowledges what it
 * received, continuously, in the background: `messages` is everything received, in the order received
 * (redeliveries included). Pulls that fail (the emulator down) are retried.
 */
export class Collector {
  readonly messages: Received[] = [];
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(readonly subscription: string) {}

  static async create(name: string): Promise<Collector> {
    await createSubscription(pubsubHost(), PROJECT_ID, name);
    return new Collector(name);
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private url(verb: string): string {
    return `http://${pubsubHost()}/v1/projects/${PROJECT_ID}/subscriptions/${this.subscription}:${verb}`;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const res = await fetch(this.url("pull"), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ maxMessages: 1000, returnImmediately: true }),
          signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new Error(`pull: HTTP ${res.status}`);
        const body = (await res.json()) as {
          receivedMessages?: { ackId: string; message: Received & { data: string } }[];
        };
        const got = body.receivedMessages ?? [];
        for (const r of got) {
          this.messages.push({ ...r.message, data: Buffer.from(r.message.data, "base64").toString("utf8") });
        }
        if (got.length > 0) {
          await fetch(this.url("acknowledge"), {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ ackIds: got.map((r) => r.ackId) }),
          });
        } else await new Promise((r) => setTimeout(r, 200));
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Received messages parsed, with their envelope. */
  events(): { event: Record<string, unknown>; message: Received }[] {
    return this.messages.map((message) => ({ event: JSON.parse(message.data), message }));
  }
}
