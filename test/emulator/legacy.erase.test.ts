import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeDocId } from "../../functions/domain/ids";
import { eraseUser } from "../../functions/usecases/erase";
import { adminFirestore, clearFirestore, firestoreHost } from "../support/firestore";
import { writeFirstReleaseSalt } from "../support/firstRelease";
import { firestoreRuntime } from "../support/runtimes";

const KEY = randomBytes(32).toString("base64");
const ctx = { correlationId: "legacy-erase", actor: { uid: "admin", via: "callable" as const } };
const db = () => adminFirestore();
const subject = (label: string) => `${label}-${randomBytes(3).toString("hex")}`;
/** How a global pseudonym of `field` is checked when it was keyed by the global salt alone (no subject). */
const unbound = (eventType: string, field: string) => ({ kind: "global" as const, eventType, field });
const bound = (eventType: string, field: string, userId: string) => ({
  ...unbound(eventType, field),
  userId,
});

/**
 * Subjects whose user salt the first release wrote (no shred secret), not yet upgraded by the sweep.
 * Their global pseudonyms were keyed by the global salt alone; from this release on none is, even on an
 * instance that still holds the old salt, and even after the subject is erased.
 */
describe("first-release subjects and erasure (Firestore emulator)", () => {
  beforeAll(async () => {
    firestoreHost();
    await clearFirestore();
  });

  it("when an event names a first-release subject, then the subject is given a shred secret first and the event is bound to it", async () => {
    const rt = firestoreRuntime({ key: KEY });
    const s = subject("legacy-seen");
    await writeFirstReleaseSalt(KEY, s, randomBytes(32), 10);
    const event = { event_type: "login", user_id: s, email: `${s}@example.com` };
    const out = (await rt.pseudonymizer.pseudonymizeAnalyticsData(event, ["email"])).data;
    expect((await db().collection("salts_user").doc(encodeDocId(s)).get()).get("shred")).toBeTruthy();
    expect(await rt.pseudonymizer.verifyPseudonym(event.email, out.email, unbound("login", "email"))).toBe(
      false,
    );
    expect(await rt.pseudonymizer.verifyPseudonym(event.email, out.email, bound("login", "email", s))).toBe(
      true,
    );
  });

  it("when an instance still holding a first-release subject's salt sees an event after the subject was erased elsewhere, then the pseudonym it makes is bound to a new shred secret, never to the global salt alone", async () => {
    const holder = firestoreRuntime({ key: KEY }); // an instance that read the subject before the erasure
    const eraser = firestoreRuntime({ key: KEY }); // another instance, where the erasure runs
    const s = subject("legacy-erased");
    await writeFirstReleaseSalt(KEY, s, randomBytes(32), 10);
    await holder.pseudonymizer.pseudonymizeUserData(s, { email: "e" }, ["email"]);
    expect(holder.cache.peek("user", s)?.shred).toBeNull(); // cached as the first release left it

    const erased = await eraseUser(eraser, ctx, s, "subject request");
    expect(erased.erased).toBe(true);

    // Within the holder's cache TTL: its copy of the erased, shredless salt must not key anything.
    const event = { event_type: "purchase", user_id: s, email: `${s}@example.com` };
    const after = (await holder.pseudonymizer.pseudonymizeAnalyticsData(event, ["email"])).data;
    expect(
      await holder.pseudonymizer.verifyPseudonym(event.email, after.email, unbound("purchase", "email")),
    ).toBe(false);
    // It is bound to the subject's new salt, which has a shred secret of its own (erasable in turn).
    const doc = (await db().collection("salts_user").doc(encodeDocId(s)).get()).data()!;
    expect(doc.shred).toBeTruthy();
    expect(doc.version).toBe(1);
    expect(
      await eraser.pseudonymizer.verifyPseudonym(event.email, after.email, bound("purchase", "email", s)),
    ).toBe(true);
  });

  it("when a first-release subject is erased, then its earlier unbound global pseudonyms stay computable from the global salt (what erasure cannot reach), and the erase entry says so", async () => {
    const rt = firestoreRuntime({ key: KEY });
    const s = subject("legacy-unreachable");
    await writeFirstReleaseSalt(KEY, s, randomBytes(32), 10);
    // What the first release made for an event naming `s`: the same as an event naming nobody today.
    const email = `${s}@example.com`;
    const before = (
      await rt.pseudonymizer.pseudonymizeAnalyticsData({ event_type: "visit", email }, ["email"])
    ).data;
    expect(await rt.pseudonymizer.verifyPseudonym(email, before.email, unbound("visit", "email"))).toBe(true);

    await eraseUser(rt, ctx, s, "subject request");
    // Nothing of the subject's was in that pseudonym: the global salt (and the pepper) still compute it.
    expect(await rt.pseudonymizer.verifyPseudonym(email, before.email, unbound("visit", "email"))).toBe(true);
    const entry = (
      await db().collection("salts_audit").where("target.id", "==", s).where("operation", "==", "erase").get()
    ).docs[0]!.data();
    expect(entry.details).toMatchObject({ versions_destroyed: 1, legacy_unbound: true });

    // An ordinary subject's erasure carries no such mark.
    const modern = subject("modern");
    await rt.pseudonymizer.pseudonymizeAnalyticsData({ event_type: "visit", user_id: modern, email }, [
      "email",
    ]);
    await eraseUser(rt, ctx, modern, "subject request");
    const plain = (
      await db()
        .collection("salts_audit")
        .where("target.id", "==", modern)
        .where("operation", "==", "erase")
        .get()
    ).docs[0]!.data();
    expect(plain.details.legacy_unbound).toBeUndefined();
  });
});
