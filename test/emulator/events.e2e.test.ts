import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSweep } from "../../functions/usecases/sweep";
import { adminFirestore, clearFirestore, PROJECT_ID } from "../support/firestore";
import { Collector, pubsubControl, pubsubHost } from "../support/pubsub";
import { composeServices } from "../../functions/app/compose";
import { runtimeSecrets, testConfig } from "../support/runtimes";
import { seedSalts } from "../support/seed";
import { call, createUser, emulatorLog, localSecrets, tasksHost, type TestUser } from "../support/stack";
import { DRAIN_WINDOW_MS } from "../../functions/domain/events";
import { EVENTS_TASK_FUNCTION } from "../../functions/adapters/eventDrains";

const db = () => adminFirestore();
const secrets = () => localSecrets();
const CONTRACT_FIELDS = new Set([
  "event_id",
  "type",
  "at",
  "kind",
  "id",
  "version",
  "rotation_id",
  "versions_destroyed",
  "job_id",
  "job_type",
  "state",
  "processed",
  "failed",
  "correlation_id",
]);

interface OutboxDoc {
  id: string;
  key: string;
  seq: string;
  pending: boolean;
}

async function outbox(): Promise<OutboxDoc[]> {
  const snap = await db().collection("salts_events").get();
  return snap.docs.map((d) => ({
    id: d.id,
    key: d.get("key") as string,
    seq: d.get("seq") as string,
    pending: d.get("pending") !== undefined,
  }));
}

/** Runs `n` calls with `inFlight` at a time; every call must succeed. */
async function load<T>(n: number, inFlight: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await one(i);
      }
    }),
  );
  return out;
}

async function jobDone(jobId: string, token: string): Promise<Record<string, any>> {
  const until = Date.now() + 600_000;
  for (;;) {
    const r = await call<Record<string, any>>("job", { job_id: jobId }, { token });
    if (r.result && r.result.state !== "running") return r.result;
    if (Date.now() > until)
      throw new Error(`job ${jobId} still running: ${JSON.stringify(r.result ?? r.error)}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** Waits until every event the outbox holds is published and received (duplicates allowed). */
async function delivered(collector: Collector, timeoutMs: number): Promise<OutboxDoc[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const docs = await outbox();
    const received = new Set(collector.events().map((e) => e.event.event_id));
    const missing = docs.filter((d) => !received.has(d.id));
    if (missing.length === 0 && docs.every((d) => !d.pending)) return docs;
    if (Date.now() > until) {
      throw new Error(
        `${missing.length} of ${docs.length} events not received, ${docs.filter((d) => d.pending).length} pending`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Waits until the deployed drain is idle: every `salts-publishEvents` task the calls answered by `lastAnswerAt`
 * asked for has run (they ask before answering; a task drains after its window's end), none is queued, and
 * every execution the functions emulator began has finished, the same for a second in a row.
 */
async function deployedDrainIdle(lastAnswerAt: number): Promise<void> {
  const windowEnd = (Math.floor(lastAnswerAt / DRAIN_WINDOW_MS) + 1) * DRAIN_WINDOW_MS;
  const until = Date.now() + 120_000;
  let quietSince = 0;
  for (;;) {
    const log = emulatorLog();
    const began = log.split(`Beginning execution of "us-central1-${EVENTS_TASK_FUNCTION}"`).length;
    const ended = log.split(`Finished "us-central1-${EVENTS_TASK_FUNCTION}"`).length;
    const stats = (await (await fetch(`http://${tasksHost()}/queueStats`)).json()) as Record<
      string,
      { numberOfTasks: number }
    >;
    const queued = Object.entries(stats)
      .filter(([key]) => key.endsWith(`-${EVENTS_TASK_FUNCTION}`))
      .reduce((n, [, q]) => n + q.numberOfTasks, 0);
    const idle = Date.now() > windowEnd + 500 && queued === 0 && began === ended;
    if (!idle) quietSince = 0;
    else if (!quietSince) quietSince = Date.now();
    else if (Date.now() - quietSince >= 1_000) return;
    if (Date.now() > until)
      throw new Error(`the deployed drain is still busy: ${queued} queued, ${began - ended} running`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The services the scheduled triggers (the sweep, the drain) build, run here, publishing to the emulator. */
function scheduledRuntime() {
  const s = secrets();
  return composeServices({
    config: testConfig({ projectId: PROJECT_ID, pubsubEmulatorHost: pubsubHost() }),
    secrets: runtimeSecrets({
      key: s.SALT_ENCRYPTION_KEY!,
      pepper: s.PSEUDONYM_PEPPER,
      auditKey: s.AUDIT_KEY,
    }),
    inProcessTasks: true,
  });
}

describe("events on Pub/Sub: a load run with an outage of the Pub/Sub emulator", () => {
  let admins: TestUser[] = [];
  let turn = 0;
  // Ten admins take turns: each stays under the per-caller rate limit (60 calls a minute).
  const admin = {
    get token(): string {
      return admins[turn++ % admins.length]!.token;
    },
  };
  let collector: Collector;

  beforeAll(async () => {
    pubsubHost();
    await clearFirestore();
    admins = await Promise.all(Array.from({ length: 10 }, () => createUser({ admin: true }, "admin")));
    collector = await Collector.create(`events-e2e-${randomBytes(4).toString("hex")}`);
    collector.start();
  });

  afterAll(async () => {
    await collector?.stop();
  });

  it(
    "when salts are created, rotated by callables, a job and the sweep, and erased while Pub/Sub stops and starts again, " +
      "then every event arrives with its event_id, in order per salt, none missing, none carrying secret material",
    async () => {
      const users = Array.from({ length: 30 }, (_, i) => `ev-user-${i}`);
      const subject = "ev-subject";
      const rt = scheduledRuntime();
      const rotate = (i: number) =>
        call<Record<string, any>>(
          "rotateUser",
          { user_id: users[i % users.length]!, reason: `load ${i}` },
          { token: admin.token },
        );
      const answers: Record<string, any>[] = [];
      const ok = async (p: Promise<{ result?: Record<string, any>; error?: unknown }>) => {
        const r = await p;
        expect(r.error, JSON.stringify(r.error)).toBeUndefined();
        answers.push(r.result!);
        return r.result!;
      };

      // Up: salts created, then rotated, by callables over HTTP.
      await load(users.length + 1, 8, (i) =>
        ok(
          call(
            "rotateUser",
            { user_id: users[i] ?? subject, force: true, reason: "create" },
            { token: admin.token },
          ),
        ),
      );
      for (let i = 0; i < 3; i++) await ok(call("rotateUser", { user_id: subject }, { token: admin.token }));
      await ok(
        call(
          "rotateGlobal",
          { event_type: "ev_click", force: true, reason: "create" },
          { token: admin.token },
        ),
      );
      await load(120, 8, (i) => ok(rotate(i)));
      // The calls handed their events to the deployed drain (a salts-publishEvents task per 5-s window).
      const lastAnswerAt = Date.now();
      const byCalls = await delivered(collector, 600_000);
      expect(byCalls.length).toBe(users.length + 1 + 3 + 1 + 120);
      // Before seeding, the drains those calls asked for have run (else one would publish some of the seed).
      await deployedDrainIdle(lastAnswerAt);
      // Salts due for the job (seeded as an earlier release would have: their creation events are in the outbox).
      const due = Array.from({ length: 150 }, (_, i) => `ev-due-${String(i).padStart(3, "0")}`);
      await seedSalts(db(), secrets().SALT_ENCRYPTION_KEY!, "user", due);
      // No call committed those: the scheduled drain (salts-drainEvents) publishes them.
      expect(await rt.events.drain()).toMatchObject({ published: 150, failed: 0 });
      const before = await delivered(collector, 600_000);
      expect(before.length).toBe(users.length + 1 + 3 + 1 + 120 + 150);

      // Down: the same load goes on; every commit succeeds, its event waits in the outbox.
      await pubsubControl("stop");
      await load(80, 8, (i) => ok(rotate(i + 120)));
      const job = await ok(call("rotateDue", { kind: "user" }, { token: admin.token }));
      // Fanned out through the Cloud Tasks emulator (ROTATE_INLINE_LIMIT is 100 there): shards of 10.
      expect(job).toMatchObject({ mode: "fanout", queued: 150 });
      expect(await jobDone(job.job_id, admin.token)).toMatchObject({
        state: "done",
        rotated: 150,
        failed: 0,
      });
      const erased = await ok(
        call("erase", { user_id: subject, reason: "events test" }, { token: admin.token }),
      );
      expect(erased.versions_destroyed).toBeGreaterThan(0);
      const waiting = (await outbox()).filter((d) => d.pending).length;
      // 80 rotations, 150 by the job, its job.finished, the erase (the drain cannot publish meanwhile).
      expect(waiting).toBeGreaterThanOrEqual(232);

      // Up again (a fresh emulator: the subscription is made before any message can be published). Everything
      // is the deployed drain's to publish (callables, the job, the erasure and the job's end hand their events
      // to it): salts-publishEvents, asked for by the calls and retried by the Cloud Tasks emulator.
      await pubsubControl("start", { subscriptions: [{ name: collector.subscription }] });
      const restarted = Date.now();
      await load(50, 8, (i) => ok(rotate(i + 200)));
      const recovered = await delivered(collector, 600_000);
      const recoveryMs = Date.now() - restarted;
      expect(recovered.length).toBe(before.length + 80 + 150 + 1 + 1 + 50);
      // The sweep, as deployed: its job rotates what is due, then its events are published.
      const sweepDue = Array.from({ length: 20 }, (_, i) => `ev-sweep-${i}`);
      await seedSalts(db(), secrets().SALT_ENCRYPTION_KEY!, "user", sweepDue);
      const sweep = await runSweep(rt, {
        correlationId: "events-sweep",
        actor: { uid: "scheduler", via: "scheduler" },
      }).finally(() => rt.events.flush());
      expect(sweep.job).toMatchObject({ rotated: 20, failed: 0 });

      const docs = await delivered(collector, 600_000);
      const received = collector.events();
      const seqOf = new Map(docs.map((d) => [d.id, d]));

      // Nothing received that the outbox does not hold, and every message well-formed.
      for (const { event, message } of received) {
        expect(seqOf.has(event.event_id as string), `unknown event ${String(event.event_id)}`).toBe(true);
        expect(message.attributes).toEqual({ event_id: event.event_id, type: event.type });
        expect(
          Object.keys(event).every((k) => CONTRACT_FIELDS.has(k)),
          JSON.stringify(event),
        ).toBe(true);
        if (event.type === "job.finished") expect(message.orderingKey ?? "").toBe("");
        else expect(message.orderingKey).toBe(`${String(event.kind)}:${String(event.id)}`);
      }

      // In order per salt: each key's events, first receipt of each, come in seq order.
      const firstSeen = new Map<string, string[]>();
      const seen = new Set<string>();
      for (const { event } of received) {
        const id = event.event_id as string;
        if (seen.has(id)) continue;
        seen.add(id);
        const doc = seqOf.get(id)!;
        firstSeen.set(doc.key, [...(firstSeen.get(doc.key) ?? []), doc.seq]);
      }
      for (const [key, seqs] of firstSeen) expect(seqs, key).toEqual([...seqs].sort());

      // Every change is there: each callable's rotation id, each rotation the job and the sweep made.
      const byRotation = new Map(received.map(({ event }) => [event.rotation_id, event]));
      for (const a of answers.filter((x) => x.rotation_id)) {
        expect(byRotation.get(a.rotation_id)?.type, a.rotation_id).toBe(
          a.created ? "salt.created" : "salt.rotated",
        );
      }
      const jobEntries = await db()
        .collection("salts_audit")
        .where("reason", "in", [`rotate_due job ${job.job_id}`, `rotate_due job ${sweep.job!.job_id}`])
        .get();
      expect(jobEntries.size).toBe(170);
      for (const e of jobEntries.docs)
        expect(byRotation.get(e.get("rotation_id"))?.type).toBe("salt.rotated");
      expect(byRotation.get(erased.receipt.rotation_id)).toMatchObject({
        type: "subject.erased",
        kind: "user",
        id: subject,
        versions_destroyed: 4,
      });
      const finished = received.filter(({ event }) => event.type === "job.finished").map((x) => x.event);
      expect(finished).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            job_id: job.job_id,
            job_type: "rotation",
            state: "done",
            processed: 150,
          }),
          expect.objectContaining({ job_id: sweep.job!.job_id, state: "done", processed: 20 }),
        ]),
      );
      // The erased subject's events: its creation, three rotations, its erasure, in that order.
      const subjectEvents = [...seen].map((id) => received.find((r) => r.event.event_id === id)!.event);
      expect(subjectEvents.filter((e) => e.id === subject).map((e) => [e.type, e.version ?? null])).toEqual([
        ["salt.created", 1],
        ["salt.rotated", 2],
        ["salt.rotated", 3],
        ["salt.rotated", 4],
        ["subject.erased", null],
      ]);

      // What a reader of this run wants to know (not asserted: the machine is shared).
      const copies = received.length - new Set(received.map((r) => r.event.event_id)).size;
      console.log(
        JSON.stringify({
          events: docs.length,
          messages: received.length,
          duplicates: copies,
          recovery_ms: recoveryMs,
        }),
      );

      // No salt, key or pseudonym in any message.
      const forbidden = [secrets().SALT_ENCRYPTION_KEY!, secrets().PSEUDONYM_PEPPER!, secrets().AUDIT_KEY!];
      const sample = await Promise.all(users.slice(1, 6).map((u) => rt.salts.get("user", u)));
      for (const s of sample) {
        forbidden.push(s!.salt.toString("base64"), s!.salt.toString("hex"), s!.salt.toString("base64url"));
      }
      for (const { message } of received) {
        for (const f of forbidden) expect(message.data.includes(f)).toBe(false);
        expect(message.data).not.toMatch(/ps1\.[ug]\./);
      }
    },
    // Generous: the emulators share two cores with other work; nothing here measures time.
    1_800_000,
  );
});
