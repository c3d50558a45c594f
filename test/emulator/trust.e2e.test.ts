import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { services } from "../../functions/app/instance";
import { encodeDocId } from "../../functions/domain/ids";
import { runSweep } from "../../functions/usecases/sweep";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { adminAuth, call, createUser, functionsHost, type TestUser } from "../support/stack";
import { TcpProxy } from "../support/tcpProxy";

const db = () => adminFirestore();
const uid = (p: string) => `${p}-${randomBytes(4).toString("hex")}`;

type Verify = {
  intact: boolean;
  checked_entries: number;
  breaks: { problem: string; target: { id: string } }[];
};

async function entriesOf(targetId: string) {
  const snap = await db().collection("salts_audit").where("target.id", "==", targetId).get();
  return snap.docs.sort((a, b) => a.get("integrity.seq") - b.get("integrity.seq"));
}

describe("authorization and an audit trail you can trust (functions + auth + firestore emulators)", () => {
  let admin: TestUser;
  let auditor: TestUser;

  beforeAll(async () => {
    await clearFirestore();
    [admin, auditor] = await Promise.all([
      createUser({ admin: true }, "admin"),
      createUser({ auditor: true }, "auditor"),
    ]);
  });

  it("when an admin is demoted, then its next call with its old token is refused and audited as denied", async () => {
    const demoted = await createUser({ admin: true }, "demoted");
    const id = uid("dm");
    expect(
      (await call("rotateUser", { user_id: id, force: true }, { token: demoted.token })).result?.created,
    ).toBe(true);
    await adminAuth().setCustomUserClaims(demoted.uid, {});
    // The old token still says admin: true.
    const refused = await call("rotateUser", { user_id: id }, { token: demoted.token });
    expect(refused.error?.status).toBe("PERMISSION_DENIED");
    const reads = await call("status", {}, { token: demoted.token });
    expect(reads.error?.status).toBe("PERMISSION_DENIED");
    expect((await db().collection("salts_user").doc(encodeDocId(id)).get()).get("version")).toBe(1);
    const log = await call<{ entries: Record<string, any>[] }>(
      "auditLog",
      { result: "denied", limit: 50 },
      { token: auditor.token },
    );
    const mine = log.result!.entries.filter((e) => e.actor.uid === demoted.uid);
    expect(mine.map((e) => e.operation).sort()).toEqual(["rotate_user", "status"]);
    expect(mine.find((e) => e.operation === "rotate_user")).toMatchObject({
      result: "denied",
      target: { kind: "user", id },
      details: { code: "permission-denied" },
    });
  });

  it("when a caller is refused again and again, then only the per-minute quota of denied entries is written", async () => {
    const nobody = await createUser({}, "prober");
    for (let i = 0; i < 14; i++) {
      expect((await call("rotateUser", { user_id: "x" }, { token: nobody.token })).error?.status).toBe(
        "PERMISSION_DENIED",
      );
    }
    const written = await db().collection("salts_audit").where("actor.uid", "==", nobody.uid).get();
    expect(written.size).toBe(10); // DENIED_AUDIT_PER_MINUTE default
  });

  it("when a revoked admin calls even a read, then unauthenticated", async () => {
    const victim = await createUser({ admin: true }, "revoked");
    await new Promise((r) => setTimeout(r, 1100));
    await adminAuth().revokeRefreshTokens(victim.uid);
    expect((await call("status", {}, { token: victim.token })).error?.status).toBe("UNAUTHENTICATED");
  });

  describe("tamper evidence", () => {
    let id: string;
    beforeAll(async () => {
      id = uid("chain");
      await call("rotateUser", { user_id: id, force: true }, { token: admin.token });
      for (let i = 0; i < 4; i++) await call("rotateUser", { user_id: id }, { token: admin.token });
    });

    const verify = async (target?: string) =>
      (await call<Verify>("auditVerify", target ? { target_id: target } : {}, { token: auditor.token }))
        .result!;

    it("when nothing was touched, then the trail verifies as intact", async () => {
      const out = await verify(id);
      expect(out).toMatchObject({ intact: true, breaks: [] });
      expect(out.checked_entries).toBeGreaterThanOrEqual(5);
      expect((await verify()).intact).toBe(true);
    });

    it("when an entry is edited, deleted or two are swapped, then auditVerify and the sweep report it", async () => {
      const docs = await entriesOf(id);
      const original = docs.map((d) => ({ ref: d.ref, data: d.data() }));
      const restore = async () => {
        for (const o of original) await o.ref.set(o.data);
      };
      try {
        await original[1]!.ref.update({ reason: "nothing to see" });
        expect((await verify(id)).breaks.map((b) => b.problem)).toContain("entry was changed");
        await restore();

        await original[2]!.ref.delete();
        expect((await verify(id)).breaks[0]?.problem).toMatch(/missing/);
        await restore();

        // Reorder two entries: each takes the other's time and rotation, keeping its own place in the chain.
        const swap = (a: Record<string, any>, b: Record<string, any>) => ({
          at: b.at,
          rotation_id: b.rotation_id,
          correlation_id: a.correlation_id,
        });
        await original[1]!.ref.update(swap(original[1]!.data, original[3]!.data));
        await original[3]!.ref.update(swap(original[3]!.data, original[1]!.data));
        const swapped = await verify(id);
        expect(swapped.intact).toBe(false);
        expect(swapped.breaks.length).toBeGreaterThanOrEqual(2);
        await restore();

        await original[4]!.ref.delete();
        expect((await verify(id)).breaks.map((b) => b.problem).join(" ")).toMatch(
          /missing \(removed from the end\)/,
        );

        // The sweep verifies the trail too (this process reads the same secrets, from the local Secret Manager).
        await original[1]!.ref.update({ reason: "edited again" });
        const report = await runSweep(services(), {
          correlationId: "tamper-sweep",
          actor: { uid: "scheduler", via: "scheduler" },
        });
        expect(report.audit_breaks).toBeGreaterThanOrEqual(2);
        expect(report.checkpoint?.digest).toMatch(/^[0-9a-f]{64}$/);
      } finally {
        await restore();
      }
      expect((await verify(id)).intact).toBe(true);
    });
  });

  describe("idempotency", () => {
    const proxy = new TcpProxy(process.env.FUNCTIONS_EMULATOR_HOST ?? "127.0.0.1:5001");
    beforeAll(async () => {
      functionsHost();
      await proxy.start();
    });
    afterAll(() => proxy.stop());

    it("when a rotation is retried with the same request_id, then the same rotation_id comes back and it rotated once", async () => {
      const id = uid("idem");
      await call("rotateUser", { user_id: id, force: true }, { token: admin.token });
      const first = await call<{ rotation_id: string; salt: { version: number } }>(
        "rotateUser",
        { user_id: id, request_id: "req-1" },
        { token: admin.token },
      );
      const again = await call<{ rotation_id: string; salt: { version: number } }>(
        "rotateUser",
        { user_id: id, request_id: "req-1" },
        { token: admin.token },
      );
      expect(again.result!.rotation_id).toBe(first.result!.rotation_id);
      expect(again.result!.salt.version).toBe(2);
      expect((await db().collection("salts_user").doc(encodeDocId(id)).get()).get("version")).toBe(2);
      const other = await call(
        "rotateUser",
        { user_id: id, reason: "different", request_id: "req-1" },
        { token: admin.token },
      );
      expect(other.error?.status).toBe("FAILED_PRECONDITION");
    });

    it("when the answer is lost on the way back, then a retry with the same request_id learns it and nothing rotates twice", async () => {
      const id = uid("lost");
      await call("rotateUser", { user_id: id, force: true }, { token: admin.token });
      proxy.loseAnswers();
      await expect(
        call("rotateUser", { user_id: id, request_id: "lost-1" }, { token: admin.token, host: proxy.host }),
      ).rejects.toThrow();
      proxy.restore();
      // The first call did commit: the retry gets its answer.
      const retry = await call<{ rotation_id: string; salt: { version: number } }>(
        "rotateUser",
        { user_id: id, request_id: "lost-1" },
        { token: admin.token, host: proxy.host },
      );
      expect(retry.result!.salt.version).toBe(2);
      const stored = (await db().collection("salts_user").doc(encodeDocId(id)).get()).data()!;
      expect(stored.version).toBe(2);
      expect(stored.last_rotation_id).toBe(retry.result!.rotation_id);
      const rotations = (await entriesOf(id)).filter(
        (d) => d.get("operation") === "rotate_user" && d.get("result") === "success",
      );
      expect(rotations).toHaveLength(2); // the creation and the one rotation
    });

    it("when an erase is retried with the same request_id, then the first receipt comes back", async () => {
      const id = uid("er");
      await call("rotateUser", { user_id: id, force: true }, { token: admin.token });
      const first = await call<{ erased: boolean; receipt: { rotation_id: string } }>(
        "erase",
        { user_id: id, reason: "gdpr", request_id: "erase-1" },
        { token: admin.token },
      );
      const again = await call<{ erased: boolean; receipt: { rotation_id: string } }>(
        "erase",
        { user_id: id, reason: "gdpr", request_id: "erase-1" },
        { token: admin.token },
      );
      expect(first.result!.erased).toBe(true);
      expect(again.result).toMatchObject({
        erased: true,
        receipt: { rotation_id: first.result!.receipt.rotation_id },
      });
    });
  });

  it("when a caller bursts at a minute boundary, then the sliding window still allows only the limit", async () => {
    const burst = await createUser({ auditor: true }, "burst");
    const intoMinute = Date.now() % 60_000;
    // Start 2 s before a minute boundary: a fixed window would allow the limit again right after it.
    await new Promise((r) => setTimeout(r, (58_000 - intoMinute + 60_000) % 60_000));
    const results = [];
    for (let i = 0; i < 8; i++) {
      results.push(
        ...(await Promise.all(Array.from({ length: 10 }, () => call("status", {}, { token: burst.token })))),
      );
    }
    expect(results.filter((r) => r.result).length).toBe(60);
    expect(results.filter((r) => r.error?.status === "RESOURCE_EXHAUSTED").length).toBe(20);
  }, 120_000);
});
