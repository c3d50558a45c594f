import { describe, expect, it } from "vitest";
import { MemoryOutbox } from "../../functions/adapters/memory/memoryOutbox";
import { MemoryPublisher } from "../../functions/adapters/memory/memoryPublisher";
import { MemorySaltStore } from "../../functions/adapters/memory/memorySaltStore";
import { MemoryState } from "../../functions/adapters/memory/memoryState";
import {
  acceptedInOrder,
  jobFinished,
  publicationOrder,
  saltChanged,
  saltSeq,
  subjectErased,
  toWire,
  type OutboxEvent,
} from "../../functions/domain/events";
import { planCreate, planRotate } from "../../functions/domain/rotation";
import { DEFAULT_POLICY } from "../../functions/domain/policy";
import type { WireMessage } from "../../functions/domain/events";
import { DRAIN_PAGE, EventRelay, FLUSH_KEYS_MAX } from "../../functions/usecases/events/relay";
import { makeDeps } from "../support/testDeps";

const t0 = new Date("2026-03-01T00:00:00.000Z");
const created = planCreate("user", "alice", t0, DEFAULT_POLICY, "r-1").record;
const rotated = planRotate(created, new Date(t0.getTime() + 1000), DEFAULT_POLICY, 30, "r-2").record;

const ev = (key: string, seq: string): OutboxEvent => ({
  message: { event_id: `${key}#${seq}`, type: "salt.rotated", at: t0.toISOString(), correlation_id: "c" },
  key,
  seq,
  orderingKey: key,
  shard: 0,
});

describe("events: what they say (domain/events)", () => {
  it("when a salt is created or rotated, then the event names kind, id, version and rotation id, and nothing else", () => {
    const e = saltChanged(rotated, t0, "corr");
    expect(e.message).toEqual({
      event_id: e.message.event_id,
      type: "salt.rotated",
      at: t0.toISOString(),
      kind: "user",
      id: "alice",
      version: 2,
      rotation_id: "r-2",
      correlation_id: "corr",
    });
    expect(saltChanged(created, t0, "corr").message.type).toBe("salt.created");
    expect(e).toMatchObject({ key: "user:alice", orderingKey: "user:alice" });
    const onFirstUse = saltChanged(planCreate("global", "click", t0, DEFAULT_POLICY).record, t0, "library");
    expect("rotation_id" in onFirstUse.message).toBe(false);
  });

  it("when two events are made for the same change, then their event ids differ (the id is the record's, kept across retries)", () => {
    expect(saltChanged(created, t0, "c").message.event_id).not.toBe(
      saltChanged(created, t0, "c").message.event_id,
    );
  });

  it("when a salt lives, is erased and lives again, then seq orders its events so", () => {
    const erased = subjectErased("user", "alice", rotated, {
      versionsDestroyed: 2,
      rotationId: "e-1",
      at: new Date(t0.getTime() + 5000),
      correlationId: "c",
    });
    const reborn = saltChanged(
      planCreate("user", "alice", new Date(t0.getTime() + 5001), DEFAULT_POLICY).record,
      t0,
      "c",
    );
    const seqs = [
      saltChanged(created, t0, "c").seq,
      saltChanged(rotated, t0, "c").seq,
      erased.seq,
      reborn.seq,
    ];
    expect([...seqs].sort()).toEqual(seqs);
    expect(erased.message).toMatchObject({
      type: "subject.erased",
      versions_destroyed: 2,
      rotation_id: "e-1",
    });
    // Version 10 after version 9: fixed width, so strings compare as numbers.
    expect(saltSeq(t0, 9) < saltSeq(t0, 10)).toBe(true);
  });

  it("when a job finishes, then its event carries counts and no ordering key", () => {
    const e = jobFinished(
      { job_id: "job_x", type: "rewrap", correlation_id: "c", state: "failed" },
      { done: 7, failed: 2 },
      t0,
    );
    expect(e.message).toMatchObject({
      type: "job.finished",
      job_id: "job_x",
      job_type: "rewrap",
      state: "failed",
      processed: 7,
      failed: 2,
    });
    expect(e.orderingKey).toBeNull();
    expect(toWire(e)).toEqual({
      data: JSON.stringify(e.message),
      attributes: { event_id: e.message.event_id, type: "job.finished" },
    });
    expect(toWire(saltChanged(created, t0, "c")).orderingKey).toBe("user:alice");
  });

  it("when pending events are ordered for publication, then each key's come in seq order", () => {
    const order = publicationOrder([ev("b", "2"), ev("a", "3"), ev("b", "1"), ev("a", "1"), ev("a", "2")]);
    expect(order.map((e) => `${e.key}${e.seq}`)).toEqual(["b1", "b2", "a1", "a2", "a3"]);
  });

  it("when Pub/Sub refuses an event, then nothing after it in its key is marked, other keys are", () => {
    const order = [ev("a", "1"), ev("a", "2"), ev("a", "3"), ev("b", "1"), ev("b", "2")];
    const marked = acceptedInOrder(order, [true, false, true, false, true]);
    expect(marked.map((e) => `${e.key}${e.seq}`)).toEqual(["a1"]);
    expect(acceptedInOrder(order, [true, true, true, true, true])).toHaveLength(5);
  });
});

/** A memory salt store whose commits feed a relay publishing to an in-memory Pub/Sub. */
function rig(offline = false) {
  const { deps, state: test } = makeDeps();
  const state = new MemoryState();
  const publisher = new MemoryPublisher(offline);
  const drains = { requested: 0, request: async () => void drains.requested++ };
  const outbox = new MemoryOutbox(state, deps.clock);
  const relay = new EventRelay({ outbox, publisher, drains, clock: deps.clock });
  const salts = new MemorySaltStore({ ...deps, events: relay }, state);
  const audit = { actor: { uid: "a", via: "cli" as const }, operation: "rotate_user", correlation_id: "c" };
  const rotate = (id: string, n: number) =>
    salts.rotate("user", id, { rotationId: `${id}-${n}`, force: true, audit });
  return { salts, relay, publisher, drains, outbox, test, rotate };
}

/** The first receipt of each event id, per ordering key, as a consumer that dedupes sees them. */
function firstSeen(messages: readonly WireMessage[]): Map<string, number[]> {
  const seen = new Set<string>();
  const out = new Map<string, number[]>();
  for (const m of messages) {
    if (seen.has(m.attributes.event_id)) continue;
    seen.add(m.attributes.event_id);
    const e = JSON.parse(m.data) as { version: number };
    out.set(m.orderingKey!, [...(out.get(m.orderingKey!) ?? []), e.version]);
  }
  return out;
}

describe("events: the relay (publish after commit, drain as backstop)", () => {
  it("when a call committed events, then flush publishes them in order and marks them; nothing is left", async () => {
    const r = rig();
    for (let n = 0; n < 3; n++) await r.rotate("alice", n);
    await r.rotate("bob", 0);
    await r.relay.flush();
    expect(firstSeen(r.publisher.accepted)).toEqual(
      new Map([
        ["user:alice", [1, 2, 3]],
        ["user:bob", [1]],
      ]),
    );
    expect(await r.outbox.countPending()).toBe(0);
    expect(r.drains.requested).toBe(0);
    expect(r.relay.hasCommitted).toBe(false);
  });

  it("when Pub/Sub refuses, then the events stay pending, the drain is asked for, and later calls leave theirs to it", async () => {
    const r = rig();
    r.publisher.refuse = true;
    await r.rotate("alice", 0);
    await r.relay.flush();
    expect(await r.outbox.countPending()).toBe(1);
    expect(r.drains.requested).toBe(1);
    r.publisher.refuse = false;
    await r.rotate("alice", 1);
    await r.relay.flush();
    // Within the quiet period a call does not try Pub/Sub itself.
    expect(r.publisher.accepted).toHaveLength(0);
    expect(r.drains.requested).toBe(2);
    expect(await r.relay.drain()).toMatchObject({ published: 2, failed: 0 });
    expect(firstSeen(r.publisher.accepted).get("user:alice")).toEqual([1, 2]);
  });

  it("when there is no Pub/Sub at all (no project, no emulator), then a call attempts nothing and the events wait", async () => {
    const r = rig(true);
    await r.rotate("alice", 0);
    await r.relay.flush();
    expect([r.publisher.calls, r.drains.requested, await r.outbox.countPending()]).toEqual([0, 0, 1]);
  });

  it("when a change touches more keys than a call publishes itself, then it leaves them to the drain", async () => {
    const r = rig();
    for (let i = 0; i <= FLUSH_KEYS_MAX; i++) await r.rotate(`u${i}`, 0);
    await r.relay.flush();
    expect(r.publisher.calls).toBe(0);
    expect(r.drains.requested).toBe(1);
    expect((await r.relay.drain()).published).toBe(FLUSH_KEYS_MAX + 1);
  });

  it("when a job's worker flushes, then it publishes nothing itself and asks for the drain", async () => {
    const r = rig();
    await r.rotate("alice", 0);
    await r.relay.flush({ toDrain: true });
    expect([r.publisher.calls, r.drains.requested]).toEqual([0, 1]);
    expect((await r.relay.drain()).published).toBe(1);
  });

  it("when the drain meets a refusal, then it marks what was accepted before it, throws, and a later drain finishes", async () => {
    const r = rig();
    for (let n = 0; n < 4; n++) await r.rotate("alice", n);
    await r.rotate("bob", 0);
    r.relay.committed([]); // nothing from this process: the drain reads the outbox
    r.publisher.refuse = (m) => m.orderingKey === "user:alice" && JSON.parse(m.data).version === 3;
    await expect(r.relay.drain()).rejects.toMatchObject({ code: "unavailable" });
    expect((await r.outbox.pending(10)).map((e) => e.message.version)).toEqual([3, 4]);
    r.publisher.refuse = false;
    await r.relay.drain();
    expect(firstSeen(r.publisher.accepted).get("user:alice")).toEqual([1, 2, 3, 4]);
    expect(await r.outbox.countPending()).toBe(0);
  });

  it("when more is pending than one round takes, then the drain's rounds walk on from where each page ended: every event once, each key in order", async () => {
    const r = rig();
    const ids = Array.from({ length: 40 }, (_, i) => `p${i}`);
    for (let n = 0; n < 30; n++) for (const id of ids) await r.rotate(id, n); // 1,200 events over many shards
    r.relay.committed([]);
    const pages: number[] = [];
    const outbox = r.outbox;
    const pending = outbox.pending.bind(outbox);
    outbox.pending = async (limit, after) => {
      const page = await pending(limit, after);
      pages.push(page.length);
      return page;
    };
    const report = await r.relay.drain();
    expect(report).toMatchObject({ rounds: 3, published: 1200, failed: 0 });
    expect(pages).toEqual([DRAIN_PAGE, DRAIN_PAGE, 200]);
    expect(r.publisher.accepted).toHaveLength(1200); // nothing twice
    const seen = firstSeen(r.publisher.accepted);
    for (const id of ids) expect(seen.get(`user:${id}`)).toEqual(Array.from({ length: 30 }, (_, n) => n + 1));
    expect(await r.outbox.countPending()).toBe(0);
  });

  it("when Pub/Sub refuses at random while calls and drains interleave, then every event arrives, each key in order", async () => {
    const r = rig();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    r.publisher.refuse = () => random() < 0.3;
    const ids = ["a", "b", "c", "d", "e"];
    const versions = new Map<string, number>();
    for (let step = 0; step < 300; step++) {
      const id = ids[Math.floor(random() * ids.length)]!;
      versions.set(id, (versions.get(id) ?? 0) + 1);
      await r.rotate(id, step);
      if (random() < 0.5) await r.relay.flush();
      if (random() < 0.2) await r.relay.drain().catch(() => undefined);
      r.test.clock.advance(40_000); // past the quiet period now and then
    }
    r.publisher.refuse = false;
    await r.relay.drain();
    const seen = firstSeen(r.publisher.accepted);
    for (const id of ids) {
      const all = Array.from({ length: versions.get(id) ?? 0 }, (_, i) => i + 1);
      expect(seen.get(`user:${id}`) ?? [], id).toEqual(all);
    }
    expect(await r.outbox.countPending()).toBe(0);
  });
});
