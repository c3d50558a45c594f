import { randomBytes } from "node:crypto";
import { DocumentReference } from "firebase-admin/firestore";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FirestoreRateLimiter } from "../../functions/adapters/firestore/firestoreStores";
import { idHash } from "../../functions/domain/crypto";
import { adminFirestore } from "../support/firestore";

// The shared limiter against the Firestore emulator, as several instances use it: each FirestoreRateLimiter
// below is one instance (its own memory of what it wrote), all on the same documents.
describe("the shared rate limiter (Firestore emulator)", () => {
  const db = adminFirestore();
  const LIMIT = 5;
  let t = Date.parse("2026-12-03T12:00:00Z");
  const clock = () => new Date(t);
  const instance = () => new FirestoreRateLimiter(db, clock);
  const key = () => `rotate_user:limiter-${randomBytes(4).toString("hex")}`;
  const doc = (k: string) => db.collection("salts_rate_limits").doc(idHash(k));
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("when one instance serves a caller, then each call after the first is its conditioned write, with the read sent beside it, not before", async () => {
    const a = instance();
    const k = key();
    const get = DocumentReference.prototype.get;
    const update = DocumentReference.prototype.update;
    // For each write: whether the call's read was still on the wire when the write was sent.
    const reads: { done: boolean }[] = [];
    const readPending: boolean[] = [];
    vi.spyOn(DocumentReference.prototype, "get").mockImplementation(function (this: DocumentReference) {
      const r = { done: false };
      reads.push(r);
      return get.call(this).finally(() => (r.done = true));
    });
    vi.spyOn(DocumentReference.prototype, "update").mockImplementation(function (
      this: DocumentReference,
      ...args: unknown[]
    ) {
      readPending.push(reads.length > 0 && !reads.at(-1)!.done);
      return (update as (...a: unknown[]) => ReturnType<typeof update>).apply(this, args);
    });
    const first = await a.hit(k, LIMIT);
    expect(first).toMatchObject({ allowed: true, remaining: LIMIT - 1 });
    expect(reads).toHaveLength(1);
    for (let i = 2; i <= LIMIT; i++) {
      t += 100;
      expect(await a.hit(k, LIMIT)).toMatchObject({ allowed: true, remaining: LIMIT - i });
    }
    // One read and one write per later call, sent together: the write did not wait for the read.
    expect(reads).toHaveLength(LIMIT);
    expect(readPending).toEqual(Array.from({ length: LIMIT - 1 }, () => true));
    expect(((await doc(k).get()).get("hits") as number[]).length).toBe(LIMIT);
  });

  it("when instances take turns with one caller, then exactly the limit is allowed in the window and no call is lost", async () => {
    const instances = [instance(), instance(), instance()];
    const k = key();
    const decisions = [];
    for (let i = 0; i < 3 * LIMIT; i++) {
      t += 50;
      decisions.push(await instances[i % 3]!.hit(k, LIMIT));
    }
    expect(decisions.filter((d) => d.allowed)).toHaveLength(LIMIT);
    // The first LIMIT calls, whichever instance served them, counted 4, 3, 2, 1, 0 remaining.
    expect(decisions.slice(0, LIMIT).map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
    expect(((await doc(k).get()).get("hits") as number[]).length).toBe(LIMIT);
  });

  it("when a caller's calls move between instances, then an instance whose memory was overtaken reads first next time, and trusts its memory again once it finds its own write current", async () => {
    const a = instance();
    const b = instance();
    const k = key();
    const get = DocumentReference.prototype.get;
    const update = DocumentReference.prototype.update;
    // Per update: whether it was sent while the call's read was still on the wire (the remembered write), and
    // whether its condition failed.
    let readOnWire = false;
    const updates: { beside: boolean; failed?: boolean }[] = [];
    vi.spyOn(DocumentReference.prototype, "get").mockImplementation(function (this: DocumentReference) {
      readOnWire = true;
      return get.call(this).finally(() => (readOnWire = false));
    });
    vi.spyOn(DocumentReference.prototype, "update").mockImplementation(function (
      this: DocumentReference,
      ...args: unknown[]
    ) {
      const u: { beside: boolean; failed?: boolean } = { beside: readOnWire };
      updates.push(u);
      const p = (update as (...a: unknown[]) => ReturnType<typeof update>).apply(this, args);
      p.then(
        () => (u.failed = false),
        () => (u.failed = true),
      );
      return p;
    });
    const step = async (x: FirestoreRateLimiter) => {
      t += 10;
      const from = updates.length;
      expect(await x.hit(k, 100)).toMatchObject({ allowed: true });
      return updates
        .slice(from)
        .map((u) => (u.beside ? "remembered" : "after read") + (u.failed ? " failed" : ""));
    };
    expect(await step(a)).toEqual([]); // created by a
    expect(await step(b)).toEqual(["after read"]);
    // a's memory was overtaken by b: its remembered write fails, the call decides on the read beside it.
    expect(await step(a)).toEqual(["remembered failed", "after read"]);
    expect(await step(b)).toEqual(["remembered failed", "after read"]);
    // Overtaken before: a reads first (no failed write), though b wrote last.
    expect(await step(a)).toEqual(["after read"]);
    // Read first again: the document is as a last wrote it, so a trusts its memory again.
    expect(await step(a)).toEqual(["after read"]);
    expect(await step(a)).toEqual(["remembered"]);
    expect(((await doc(k).get()).get("hits") as number[]).length).toBe(7);
  });

  it("when instances hit one caller at once, then no more than the limit is allowed", async () => {
    const instances = [instance(), instance(), instance(), instance()];
    const k = key();
    // Each instance has written once, so each remembers a (soon stale) window.
    for (const x of instances) await x.hit(k, 100);
    t += 10;
    const decisions = await Promise.all(
      Array.from({ length: 12 }, (_, i) => instances[i % instances.length]!.hit(k, 8)),
    );
    // 4 hits already stored: 4 more of the 12 fit under a limit of 8.
    expect(decisions.filter((d) => d.allowed)).toHaveLength(4);
    expect(((await doc(k).get()).get("hits") as number[]).length).toBe(8);
  });

  it("when a remembered window is full, then the refusal's retry time is the stored window's, other instances' calls included", async () => {
    const a = instance();
    const b = instance();
    const k = key();
    await a.hit(k, 3); // t0
    const t0 = t;
    t += 20_000;
    await b.hit(k, 3); // t0 + 20 s, by the other instance
    t += 20_000;
    await a.hit(k, 3); // t0 + 40 s: a's memory was stale; read, then counted
    t += 1_000;
    const refused = await a.hit(k, 3);
    expect(refused.allowed).toBe(false);
    // The oldest of the 3 stored hits (t0) leaves the window at t0 + 60 s: 19 s from now.
    expect(refused.retryAfterSeconds).toBe(Math.ceil((t0 + 60_000 - t) / 1000));
    expect(((await doc(k).get()).get("hits") as number[]).length).toBe(3);
  });

  it("when what an instance remembers is full but the stored window differs, then the refusal is decided on the stored one", async () => {
    const a = instance();
    const k = key();
    const start = t;
    for (let i = 0; i < 3; i++) {
      t += 10_000;
      await a.hit(k, 3); // remembered: start + 10, 20, 30 s
    }
    // Behind its back, the window's oldest hit is made older (start + 1 s): it frees up 9 s sooner.
    await doc(k).update({ hits: [start + 1_000, start + 20_000, start + 30_000] });
    t += 1_000;
    const refused = await a.hit(k, 3);
    expect(refused.allowed).toBe(false);
    // From the stored window: start + 61 s; from the remembered one it would be start + 70 s.
    expect(refused.retryAfterSeconds).toBe(Math.ceil((start + 61_000 - t) / 1000));
  });

  it("when the document an instance wrote is deleted (the TTL policy), then its remembered write's condition fails and the call starts a new window", async () => {
    const a = instance();
    const k = key();
    await a.hit(k, 3);
    await a.hit(k, 3);
    await doc(k).delete();
    t += 1;
    const update = vi.spyOn(DocumentReference.prototype, "update");
    // Remembered: 2 of 3, so the conditioned update is sent; the document is gone, so its update time cannot
    // match (FAILED_PRECONDITION): decided on the read, which finds no document.
    expect(await a.hit(k, 3)).toMatchObject({ allowed: true, remaining: 2 });
    expect(update).toHaveBeenCalledTimes(1);
    await expect(update.mock.results[0]!.value).rejects.toMatchObject({ code: 9 });
    expect(((await doc(k).get()).get("hits") as number[]).length).toBe(1);
  });

  it("when the document is edited behind the limiter's back, then the conditioned write fails and the stored window decides", async () => {
    const a = instance();
    const k = key();
    await a.hit(k, 3);
    // Someone fills the window directly (another writer): the remembered update time is stale.
    await doc(k).update({ hits: [t, t, t] });
    t += 1;
    const d = await a.hit(k, 3);
    expect(d.allowed).toBe(false);
    expect(((await doc(k).get()).get("hits") as number[]).length).toBe(3);
  });
});
