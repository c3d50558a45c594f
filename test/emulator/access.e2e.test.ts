import { beforeAll, describe, expect, it } from "vitest";
import { encodeDocId } from "../../functions/domain/ids";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { recordResponse } from "../support/leakLedger";
import { adminAuth, call, createUser, type CallResult, type TestUser } from "../support/stack";

/** Every response seen is kept for the leak check at the end of the run. */
async function c<T = Record<string, any>>(...args: Parameters<typeof call>): Promise<CallResult<T>> {
  const r = await call<T>(...args);
  recordResponse(r.raw);
  return r;
}

const issuesOf = (r: CallResult) =>
  ((r.error?.details?.issues ?? []) as { path: string }[]).map((i) => i.path);

describe("access: who holds a role, and granting or clearing one (functions + auth + firestore emulators)", () => {
  let admin: TestUser;
  let auditor: TestUser;
  let plain: TestUser;

  beforeAll(async () => {
    await clearFirestore();
    // These roles are set outside the service (Admin SDK), as a deployer would have done before salts-setRole.
    [admin, auditor, plain] = await Promise.all([
      createUser({ admin: true }, "acc-admin"),
      createUser({ auditor: true }, "acc-auditor"),
      createUser({}, "acc-plain"),
    ]);
    await adminAuth().setCustomUserClaims(plain.uid, { team: "analytics", tier: 3 });
  });

  it("when roles were set outside the service, then a scan of Auth finds them, and the index listing shows them checked against Auth", async () => {
    const before = await c("roles", {}, { token: auditor.token });
    expect(before.result?.source).toBe("index");
    expect(before.result?.holders.map((h: any) => h.uid)).not.toContain(admin.uid);
    let cursor: string | undefined;
    const found: any[] = [];
    let last: any;
    do {
      last = (await c("roles", { scan: true, ...(cursor ? { cursor } : {}) }, { token: auditor.token }))
        .result;
      found.push(...last.holders);
      cursor = last.next_cursor ?? undefined;
    } while (cursor);
    expect(found).toEqual(
      expect.arrayContaining([
        { uid: admin.uid, email: admin.email, roles: ["admin"], disabled: false },
        { uid: auditor.uid, email: auditor.email, roles: ["auditor"], disabled: false },
      ]),
    );
    expect(found.map((h) => h.uid)).not.toContain(plain.uid);
    expect(Date.parse(last.reconciled_at)).toBeGreaterThan(Date.now() - 600_000);
    const index = await c("roles", { role: "admin", limit: 100 }, { token: auditor.token });
    expect(index.result?.holders.map((h: any) => h.uid)).toContain(admin.uid);
    expect(index.result?.holders.every((h: any) => h.roles.includes("admin"))).toBe(true);
    expect(index.result?.reconciled_at).toBe(last.reconciled_at);
  }, 240_000);

  it("when an admin grants a role by email, then other claims are kept and the holder's next call (same token) is allowed; revoked, it is refused", async () => {
    expect((await c("status", {}, { token: plain.token })).error?.status).toBe("PERMISSION_DENIED");
    const granted = await c(
      "setRole",
      { email: plain.email, role: "auditor", grant: true, reason: "quarterly audit", request_id: "grant-1" },
      { token: admin.token },
    );
    expect(granted.result).toMatchObject({ uid: plain.uid, roles: ["auditor"] });
    expect((await adminAuth().getUser(plain.uid)).customClaims).toEqual({
      team: "analytics",
      tier: 3,
      auditor: true,
    });
    // The ID token was minted before the grant: the pipeline reads roles from Auth on every call.
    expect((await c("status", {}, { token: plain.token })).result?.storage_type).toBe("firestore");
    const listed = await c("roles", { role: "auditor" }, { token: admin.token });
    expect(listed.result?.holders).toContainEqual({
      uid: plain.uid,
      email: plain.email,
      roles: ["auditor"],
      disabled: false,
    });
    const index = await adminFirestore().collection("salts_roles").doc(encodeDocId(plain.uid)).get();
    expect(index.get("roles")).toEqual(["auditor"]);
    expect(index.get("pending")).toBeNull();

    // A retry with the same request_id is answered from the first call and changes nothing.
    const retry = await c(
      "setRole",
      { email: plain.email, role: "auditor", grant: true, reason: "quarterly audit", request_id: "grant-1" },
      { token: admin.token },
    );
    expect(retry.result).toMatchObject({ uid: plain.uid, roles: ["auditor"] });
    const reused = await c(
      "setRole",
      { email: plain.email, role: "admin", grant: true, reason: "other", request_id: "grant-1" },
      { token: admin.token },
    );
    expect(reused.error?.status).toBe("FAILED_PRECONDITION");

    const revoked = await c(
      "setRole",
      { uid: plain.uid, role: "auditor", grant: false, reason: "audit over" },
      { token: admin.token },
    );
    expect(revoked.result).toMatchObject({ uid: plain.uid, roles: [] });
    expect((await adminAuth().getUser(plain.uid)).customClaims).toEqual({ team: "analytics", tier: 3 });
    expect((await c("status", {}, { token: plain.token })).error?.status).toBe("PERMISSION_DENIED");
    expect((await adminFirestore().collection("salts_roles").doc(encodeDocId(plain.uid)).get()).exists).toBe(
      false,
    );

    const log = await c("auditLog", { target_id: "access", operation: "set_role" }, { token: auditor.token });
    const changes = log.result!.entries.filter((e: any) => e.details?.uid === plain.uid);
    expect(changes.map((e: any) => [e.details.grant, e.result, e.actor.uid, e.reason])).toEqual([
      [false, "success", admin.uid, "audit over"],
      [true, "success", admin.uid, "quarterly audit"],
    ]);
    expect(changes[0].target).toEqual({ kind: "system", id: "access" });
  }, 240_000);

  it("when an admin removes its own admin role, then it is refused and the admin stays an admin", async () => {
    const r = await c(
      "setRole",
      { uid: admin.uid, role: "admin", grant: false, reason: "step down" },
      { token: admin.token },
    );
    expect(r.error?.status).toBe("FAILED_PRECONDITION");
    expect(r.error?.message).toContain("own admin role");
    expect((await adminAuth().getUser(admin.uid)).customClaims?.admin).toBe(true);
    // Another admin may.
    const other = await createUser({ admin: true }, "acc-admin2");
    const demoted = await c(
      "setRole",
      { uid: other.uid, role: "admin", grant: false, reason: "rotation off" },
      { token: admin.token },
    );
    expect(demoted.result?.roles).toEqual([]);
    expect(
      (await c("rotateGlobal", { event_type: "acc", force: true }, { token: other.token })).error?.status,
    ).toBe("PERMISSION_DENIED");
  }, 180_000);

  it("when a non-admin or a bad request asks for a role change, then it is refused naming the fields, and an unknown account is not-found", async () => {
    const asAuditor = await c(
      "setRole",
      { uid: plain.uid, role: "admin", grant: true, reason: "x" },
      { token: auditor.token },
    );
    expect(asAuditor.error?.status).toBe("PERMISSION_DENIED");
    expect((await adminAuth().getUser(plain.uid)).customClaims?.admin).toBeUndefined();
    const both = await c(
      "setRole",
      { uid: "a", email: "a@b.example", role: "admin", grant: true, reason: "x" },
      { token: admin.token },
    );
    expect(issuesOf(both)).toEqual(["uid"]);
    const bad = await c(
      "setRole",
      { email: "not-an-email", role: "owner", grant: "yes", reason: "" },
      { token: admin.token },
    );
    expect(issuesOf(bad).sort()).toEqual(["email", "grant", "reason", "role"]);
    const missing = await c(
      "setRole",
      { email: "nobody-here@example.test", role: "auditor", grant: true, reason: "x" },
      { token: admin.token },
    );
    expect(missing.error?.status).toBe("NOT_FOUND");
    expect(issuesOf(await c("roles", { role: "owner", limit: 0 }, { token: auditor.token })).sort()).toEqual([
      "limit",
      "role",
    ]);
    expect((await c("roles", {}, { token: plain.token })).error?.status).toBe("PERMISSION_DENIED");
  });

  it("when a holder is disabled or loses the role outside the service, then the listing says so at once", async () => {
    const holder = await createUser({}, "acc-holder");
    await c(
      "setRole",
      { uid: holder.uid, role: "auditor", grant: true, reason: "temp" },
      { token: admin.token },
    );
    await adminAuth().updateUser(holder.uid, { disabled: true });
    const listed = await c("roles", { role: "auditor", limit: 100 }, { token: auditor.token });
    expect(listed.result?.holders).toContainEqual(
      expect.objectContaining({ uid: holder.uid, disabled: true }),
    );
    await adminAuth().setCustomUserClaims(holder.uid, {});
    const after = await c("roles", { role: "auditor", limit: 100 }, { token: auditor.token });
    expect(after.result?.holders.map((h: any) => h.uid)).not.toContain(holder.uid);
  });

  it("when a database writer plants a role index entry, then the listing shows what Firebase Auth says, and drops the entry", async () => {
    const ref = adminFirestore().collection("salts_roles").doc(encodeDocId(plain.uid));
    await ref.set({ uid: plain.uid, roles: ["admin"], pending: null });
    const listed = await c("roles", { role: "admin", limit: 100 }, { token: auditor.token });
    expect(listed.result?.holders.map((h: any) => h.uid)).not.toContain(plain.uid);
    expect((await ref.get()).exists).toBe(false);
  });

  it("when the trail is verified after the role changes, then it is intact", async () => {
    const v = await c("auditVerify", { limit: 10_000 }, { token: auditor.token });
    expect(v.result).toMatchObject({ intact: true, breaks: [] });
    expect(v.result?.checked_entries).toBeGreaterThan(3);
  });
});
