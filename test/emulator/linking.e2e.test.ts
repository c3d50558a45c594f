import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearFirestore, PROJECT_ID } from "../support/firestore";
import { call, createUser, functionsHost, localSecrets, setTestClock, type TestUser } from "../support/stack";
import { METRICS_FLUSH_MS } from "../../functions/observability/metrics";

interface Linked {
  pseudonymized: Record<string, string | null>;
  salt_version: number;
  previous?: Record<string, string | null>;
  previous_salt_version?: number | null;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const data = { email: "walker@example.com", session: "s-81", note: null };

/** Prometheus text of salts-metrics (ENABLE_METRICS=true in the emulator's .env.local). */
async function scrape(): Promise<string> {
  const res = await fetch(`http://${functionsHost()}/${PROJECT_ID}/us-central1/salts-metrics`, {
    headers: { authorization: `Bearer ${localSecrets().METRICS_TOKEN}` },
  });
  return res.text();
}
const counter = (text: string, outcome: string) =>
  Number(new RegExp(`salt_link_previous_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? "NaN");

describe(
  "linking across a rotation over HTTP (the functions' clock driven by the test)",
  { timeout: 300_000 },
  () => {
    let admin: TestUser;
    const ask = (user_id: string, extra: object = {}) =>
      call<Linked>(
        "pseudonymizeTest",
        { user_id, data, with_previous: true, ...extra },
        { token: admin.token },
      );

    beforeAll(async () => {
      await clearFirestore();
      await setTestClock(0);
      admin = await createUser({ admin: true }, "admin");
    });

    afterAll(() => setTestClock(0));

    it("when asked inside LINK_WINDOW_HOURS of a rotation, then the previous pseudonyms are given; after the window, none", async () => {
      const uid = `walker-${randomBytes(4).toString("hex")}`;
      // Counts earlier files' calls left in their instances' memory are written within one interval.
      await new Promise((r) => setTimeout(r, METRICS_FLUSH_MS + 1_000));
      const before = await scrape();
      const first = await ask(uid);
      expect(first.result).toMatchObject({ salt_version: 1, previous_salt_version: null });
      expect(first.result!.previous).toEqual({ email: null, session: null, note: null });

      expect(
        (await call("rotateUser", { user_id: uid, reason: "scheduled" }, { token: admin.token })).result,
      ).toBeDefined();
      // Two minutes on (every instance's salt cache has expired), well inside the 48-hour window.
      await setTestClock(2 * MINUTE);
      const inside = await ask(uid);
      expect(inside.result).toMatchObject({ salt_version: 2, previous_salt_version: 1 });
      expect(inside.result!.previous).toEqual({
        email: first.result!.pseudonymized.email,
        session: first.result!.pseudonymized.session,
        note: null,
      });
      expect(inside.result!.pseudonymized.email).not.toBe(first.result!.pseudonymized.email);

      // 47 hours after the rotation: still inside.
      await setTestClock(47 * HOUR);
      expect((await ask(uid)).result!.previous!.email).toBe(first.result!.pseudonymized.email);

      // 49 hours after: outside. The current pseudonyms are unchanged, the previous ones are gone.
      await setTestClock(49 * HOUR);
      const outside = await ask(uid);
      expect(outside.result).toMatchObject({ salt_version: 2, previous_salt_version: null });
      expect(outside.result!.previous).toEqual({ email: null, session: null, note: null });
      expect(outside.result!.pseudonymized).toEqual(inside.result!.pseudonymized);

      // Every ask is counted: 2 given (inside), 2 not (before the first rotation, after the window).
      const delta = (text: string, outcome: string) =>
        counter(text, outcome) - (counter(before, outcome) || 0);
      let after = await scrape();
      const deadline = Date.now() + METRICS_FLUSH_MS + 5_000;
      while ((delta(after, "given") < 2 || delta(after, "none") < 2) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        after = await scrape();
      }
      expect(delta(after, "given")).toBe(2);
      expect(delta(after, "none")).toBe(2);
    });

    it("when the subject was erased, then no previous pseudonym is given, even right after a rotation", async () => {
      const uid = `erased-${randomBytes(4).toString("hex")}`;
      await setTestClock(0);
      await ask(uid);
      await call("rotateUser", { user_id: uid }, { token: admin.token });
      await setTestClock(2 * MINUTE);
      expect((await ask(uid)).result!.previous!.email).not.toBeNull();
      expect(
        (await call("erase", { user_id: uid, reason: "GDPR art. 17" }, { token: admin.token })).result,
      ).toBeDefined();
      await setTestClock(4 * MINUTE);
      const r = await ask(uid);
      expect(r.result).toMatchObject({ salt_version: 1, previous_salt_version: null });
      expect(r.result!.previous).toEqual({ email: null, session: null, note: null });
    });

    it("when with_previous is asked with an event type, then invalid-argument names it", async () => {
      const r = await ask("someone", { event_type: "page_view" });
      expect(r.error?.status).toBe("INVALID_ARGUMENT");
      expect((r.error!.details!.issues as { path: string }[]).map((i) => i.path)).toEqual(["with_previous"]);
    });
  },
);
