import { randomBytes } from "node:crypto";
import { DocumentReference, Firestore } from "firebase-admin/firestore";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FirestoreRequestStore } from "../../functions/adapters/firestore/firestoreRequests";
import { GroupedCreates } from "../../functions/adapters/firestore/groupedCreates";
import { REQUEST_TTL_MS } from "../../functions/ports/requestStore";
import { adminFirestore } from "../support/firestore";

// Kept answers (a BigQuery batch's replies) against the Firestore emulator: creates sent in groups while one
// is out (adapters/firestore/groupedCreates.ts), each create still succeeding or failing on its own.
describe("kept answers in groups (Firestore emulator)", () => {
  const db = adminFirestore();
  let t = Date.parse("2026-12-03T12:00:00Z");
  const clock = () => new Date(t);
  const key = (name: string) => `keep-${name}-${randomBytes(4).toString("hex")}`;
  const replies = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `ps1.u.1.1.${tag}-${i}`);
  /** Counts the requests the store sends: plain creates (a group of one) and BatchWrites (one BulkWriter each). */
  const groups = () => {
    const bulk = vi.spyOn(Firestore.prototype, "bulkWriter");
    const single = vi.spyOn(DocumentReference.prototype, "create");
    return () => ({ bulk: bulk.mock.calls.length, single: single.mock.calls.length });
  };
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("when many answers are kept at once, then they go in fewer requests than answers, and each is stored as given", async () => {
    const store = new FirestoreRequestStore(db, clock);
    const sent = groups();
    const keys = Array.from({ length: 12 }, (_, i) => key(`many${i}`));
    const kept = await Promise.all(keys.map((k, i) => store.keep(k, `fp${i}`, replies(1000, `r${i}`))));
    expect(kept.every((k) => k.first)).toBe(true);
    // The first alone (a plain create), the rest while it was out, in BatchWrites.
    expect(sent().single).toBeGreaterThanOrEqual(1);
    expect(sent().bulk).toBeGreaterThanOrEqual(1);
    expect(sent().single + sent().bulk).toBeLessThan(keys.length);
    const again = await Promise.all(keys.map((k) => store.get(k)));
    again.forEach((stored, i) =>
      expect(stored).toEqual({ fingerprint: `fp${i}`, answer: replies(1000, `r${i}`) }),
    );
  });

  it("when a group holds a key already kept and a duplicate of another, then only those get the first answer back, and the rest of the group is created", async () => {
    const store = new FirestoreRequestStore(db, clock);
    const old = key("old");
    await store.keep(old, "fp-old", replies(3, "first"));
    const blocker = store.keep(key("blocker"), "fp-b", replies(10, "b")); // out while the group below queues
    const twin = key("twin");
    const fresh = Array.from({ length: 4 }, (_, i) => key(`fresh${i}`));
    const [retried, twinA, twinB, ...created] = await Promise.all([
      store.keep(old, "fp-old", replies(3, "second")),
      store.keep(twin, "fp-twin", replies(3, "a")),
      store.keep(twin, "fp-twin", replies(3, "b")),
      ...fresh.map((k) => store.keep(k, "fp-fresh", replies(3, k))),
    ]);
    await blocker;
    expect(retried).toMatchObject({ first: false, answer: replies(3, "first") });
    expect([twinA!.first, twinB!.first].sort()).toEqual([false, true]);
    expect(twinA!.answer).toEqual(twinB!.answer);
    created.forEach((c, i) => expect(c).toMatchObject({ first: true, answer: replies(3, fresh[i]!) }));
    for (const k of fresh) expect((await store.get(k))?.answer).toEqual(replies(3, k));
  });

  it("when a create's data is not a valid document, then it alone is refused, and its group and the creates after it are created", async () => {
    const creates = new GroupedCreates(db);
    const ref = (name: string) => db.collection("salts_requests").doc(key(name));
    const within = <T>(p: Promise<T>) =>
      Promise.race([
        p.then(
          () => "created",
          (e: unknown) => `refused: ${String(e)}`,
        ),
        new Promise<string>((r) => setTimeout(() => r("no answer within 5 s"), 5_000)),
      ]);
    const [first, bad, good] = await Promise.all([
      within(creates.create(ref("lead"), { n: 1 }, 10)), // out alone: the two below queue as a group
      within(creates.create(ref("bad"), { n: undefined }, 10)),
      within(creates.create(ref("good"), { n: 2 }, 10)),
    ]);
    expect(first).toBe("created");
    expect(bad).toMatch(/^refused: .*undefined/);
    expect(good).toBe("created");
    // Nothing stalled behind it: later creates, alone and in a group, still go through.
    expect(await within(creates.create(ref("after-bad"), { n: undefined }, 10))).toMatch(/^refused/);
    expect(
      await Promise.all([1, 2, 3].map((n) => within(creates.create(ref(`after${n}`), { n }, 10)))),
    ).toEqual(["created", "created", "created"]);
  });

  it("when a kept answer has expired but is not yet deleted, then the next keep replaces it", async () => {
    const store = new FirestoreRequestStore(db, clock);
    const k = key("expired");
    await store.keep(k, "fp", replies(2, "then"));
    t += REQUEST_TTL_MS + 1;
    expect(await store.keep(k, "fp", replies(2, "now"))).toMatchObject({
      first: true,
      answer: replies(2, "now"),
    });
    expect((await store.get(k))?.answer).toEqual(replies(2, "now"));
  });
});
