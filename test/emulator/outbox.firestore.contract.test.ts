import { Timestamp } from "firebase-admin/firestore";
import { FirestoreJobStore } from "../../functions/adapters/firestore/firestoreJobStore";
import { FirestoreOutbox } from "../../functions/adapters/firestore/firestoreOutbox";
import { FirestoreSaltStore } from "../../functions/adapters/firestore/firestoreSaltStore";
import { describe, expect, it } from "vitest";
import { MemoryPublisher } from "../../functions/adapters/memory/memoryPublisher";
import { EventRelay } from "../../functions/usecases/events/relay";
import { outboxContract } from "../contract/outbox.contract";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { makeDeps } from "../support/testDeps";

outboxContract("firestore (emulator)", async () => {
  const db = adminFirestore();
  const { deps, state } = makeDeps();
  const committed: string[] = [];
  const events = { committed: (keys: readonly string[]) => void committed.push(...keys) };
  return {
    salts: new FirestoreSaltStore(db, { ...deps, events }),
    jobs: new FirestoreJobStore(db, 20_000, events),
    outbox: new FirestoreOutbox(db, deps.clock),
    state,
    committed,
    reset: clearFirestore,
    published: async (id) => {
      const snap = await db.collection("salts_events").doc(id).get();
      if (snap.get("pending") !== undefined) return null;
      return { expiresAt: (snap.get("expire_at") as Timestamp).toDate() };
    },
  };
});

describe("the Firestore outbox against a database writer", () => {
  it("when a writer plants outbox records with extra fields or a wrong id, or a moved place in the queue, then the drain publishes none and sets them aside", async () => {
    await clearFirestore();
    const db = adminFirestore();
    const { deps } = makeDeps();
    const outbox = new FirestoreOutbox(db, deps.clock);
    const publisher = new MemoryPublisher();
    const relay = new EventRelay({
      outbox,
      publisher,
      drains: { request: async () => {} },
      clock: deps.clock,
    });
    const salts = new FirestoreSaltStore(db, { ...deps, events: relay });
    await salts.getOrCreate("user", "real");
    const forged = (id: string, message: Record<string, unknown>, pending = "0") =>
      db
        .collection("salts_events")
        .doc(id)
        .set({
          data: JSON.stringify(message),
          type: "salt.created",
          key: "user:victim",
          seq: "0",
          ordering_key: "user:victim",
          shard: 0,
          pending,
          created_at: Timestamp.now(),
        });
    const base = {
      type: "salt.created",
      at: new Date().toISOString(),
      kind: "user",
      id: "victim",
      correlation_id: "x",
    };
    await forged("f1", { ...base, event_id: "f1", salt: "c2VjcmV0LXNhbHQ=" });
    await forged("f2", { ...base, event_id: "not-f2" });
    await forged("f3", { ...base, event_id: "f3", version: "1; DROP" });
    // A well-formed event whose place in the queue was moved (pending is not its seq).
    await forged("f4", { ...base, event_id: "f4" }, "00");

    expect(await relay.drain()).toMatchObject({ published: 1, failed: 0 });
    expect(publisher.events.map((e) => e.id)).toEqual(["real"]);
    for (const id of ["f1", "f2", "f3", "f4"]) {
      const snap = await db.collection("salts_events").doc(id).get();
      expect([snap.get("pending"), snap.get("quarantined_at") instanceof Timestamp]).toEqual([
        undefined,
        true,
      ]);
    }
    expect(await outbox.countPending()).toBe(0);
  });
});
