import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unsignedIdToken } from "../../scripts/stack-client.mjs";
import { PROJECT_ID } from "../support/firestore";
import { call, createUser, functionsHost, setTestClock, type TestUser } from "../support/stack";

// The invoker npm start and the test command allow (BIGQUERY_INVOKERS).
const INVOKER = "bigquery-demo@demo-salts.iam.gserviceaccount.com";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const run = randomBytes(4).toString("hex");
const url = () => `http://${functionsHost()}/${PROJECT_ID}/us-central1/salts-pseudonymizeBatch`;

async function post(
  calls: unknown[][],
  context: Record<string, unknown>,
): Promise<{ status: number; body: { replies?: (string | null)[]; errorMessage?: string } }> {
  const res = await fetch(url(), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${unsignedIdToken(INVOKER, url())}`,
    },
    body: JSON.stringify({
      requestId: `req-${randomBytes(6).toString("hex")}`,
      caller: `//bigquery.googleapis.com/projects/${PROJECT_ID}/jobs/${PROJECT_ID}:US.bquxjob_${run}`,
      sessionUser: "analyst@example.com",
      userDefinedContext: context,
      calls,
    }),
  });
  return { status: res.status, body: (await res.json()) as { replies?: (string | null)[] } };
}

describe(
  "salts-pseudonymizeBatch with a scope and in mode user_previous (functions emulator, clock driven)",
  { timeout: 300_000 },
  () => {
    let admin: TestUser;
    const scopeOf = (id: string, consumers: string[]) =>
      call(
        "putScope",
        { scope_id: id, description: "partner", rotation_days: 30, consumers, reason: "test" },
        { token: admin.token },
      );
    /** The reference: salts-pseudonymizeTest, as the contract names it. */
    const reference = async (user_id: string, extra: Record<string, unknown>) =>
      (
        await call<{ pseudonymized: Record<string, string>; previous?: Record<string, string | null> }>(
          "pseudonymizeTest",
          { user_id, data: { email: "p@example.com" }, fields: ["email"], ...extra },
          { token: admin.token },
        )
      ).result!;

    beforeAll(async () => {
      await setTestClock(0);
      admin = await createUser({ admin: true }, "bqscope-admin");
    });
    afterAll(() => setTestClock(0));

    it("when the invoker is a consumer of the scope, then the replies are the scope's pseudonyms, equal to pseudonymizeTest's and unlike the unscoped and another scope's", async () => {
      const [a, b] = [`bq-a-${run}`, `bq-b-${run}`];
      expect((await scopeOf(a, [INVOKER, admin.uid])).result).toBeDefined();
      expect((await scopeOf(b, [INVOKER, admin.uid])).result).toBeDefined();
      const uid = `sc-user-${run}`;
      const inA = await post(
        [
          [uid, "p@example.com"],
          [uid, null],
        ],
        { mode: "user", field: "email", scope: a },
      );
      expect(inA.status).toBe(200);
      const [scoped, none] = inA.body.replies!;
      expect(none).toBeNull();
      expect(scoped).toMatch(new RegExp(`^ps1\\.su\\.${a}\\.1\\.1\\.`));
      expect(scoped).toBe((await reference(uid, { scope: a })).pseudonymized.email);
      const inB = await post([[uid, "p@example.com"]], { mode: "user", field: "email", scope: b });
      const plain = await post([[uid, "p@example.com"]], { mode: "user", field: "email" });
      expect(new Set([scoped, inB.body.replies![0], plain.body.replies![0]]).size).toBe(3);
    });

    it("when the invoker is not among the scope's consumers, then 403; an unknown scope is 400", async () => {
      const other = `bq-other-${run}`;
      expect((await scopeOf(other, ["pipeline@demo-salts.iam.gserviceaccount.com"])).result).toBeDefined();
      const refused = await post([[`u-${run}`, "x"]], { mode: "user", scope: other });
      expect(refused.status).toBe(403);
      expect(refused.body.errorMessage).toMatch(/not a consumer/);
      const unknown = await post([[`u-${run}`, "x"]], { mode: "user", scope: `nope-${run}` });
      expect(unknown.status).toBe(400);
      expect(unknown.body.errorMessage).toMatch(/userDefinedContext\.scope/);
    });

    it("when mode user_previous is asked inside LINK_WINDOW_HOURS of a rotation, then the previous pseudonym; outside it, after erase and for an unknown user, NULL", async () => {
      const uid = `prev-${run}`;
      const ctx = { mode: "user_previous", field: "email" };
      const first = await post([[uid, "p@example.com"]], { mode: "user", field: "email" });
      expect(first.status).toBe(200);
      // Never rotated: no previous version.
      expect((await post([[uid, "p@example.com"]], ctx)).body.replies).toEqual([null]);
      expect(
        (await call("rotateUser", { user_id: uid, reason: "test" }, { token: admin.token })).result,
      ).toBeDefined();
      await setTestClock(2 * MINUTE);
      const inside = await post(
        [
          [uid, "p@example.com"],
          [`never-${run}`, "p@example.com"],
        ],
        ctx,
      );
      expect(inside.status).toBe(200);
      expect(inside.body.replies).toEqual([first.body.replies![0], null]);
      expect(inside.body.replies![0]).toBe((await reference(uid, { with_previous: true })).previous!.email);

      await setTestClock(49 * HOUR);
      expect((await post([[uid, "p@example.com"]], ctx)).body.replies).toEqual([null]);

      await setTestClock(50 * HOUR);
      await call("rotateUser", { user_id: uid, reason: "again" }, { token: admin.token });
      await setTestClock(50 * HOUR + 2 * MINUTE);
      expect((await post([[uid, "p@example.com"]], ctx)).body.replies![0]).not.toBeNull();
      await call("erase", { user_id: uid, reason: "GDPR art. 17" }, { token: admin.token });
      await setTestClock(50 * HOUR + 4 * MINUTE);
      expect((await post([[uid, "p@example.com"]], ctx)).body.replies).toEqual([null]);
      // user_previous never creates a salt: the erased user still has none.
      const audit = await call("audit", { user_id: uid }, { token: admin.token });
      expect(audit.error?.status).toBe("NOT_FOUND");
    });
  },
);
