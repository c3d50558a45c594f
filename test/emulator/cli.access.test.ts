import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeDocId } from "../../functions/domain/ids";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { adminAuth, createUser } from "../support/stack";
import {
  directEnv,
  fakeServiceAccountFile,
  operator,
  salts,
  SERVICE_ACCOUNT,
  type Operator,
} from "./cli.harness";

/** Instances re-read a policy that says "guarded" after SETTINGS_REFRESH_SECONDS (2 s in .env.local). */
const POLICY_REFRESH_MS = 2_500;

describe("salts CLI: roles, role grant|revoke, approvals, approve, --wait (child processes)", () => {
  let a: Operator;
  let b: Operator;
  let auditor: Operator;
  const run = Date.now().toString(36);

  beforeAll(async () => {
    await clearFirestore();
    [a, b, auditor] = await Promise.all([
      operator({ admin: true }, "cli-a"),
      operator({ admin: true }, "cli-b"),
      operator({ auditor: true }, "cli-auditor"),
    ]);
  }, 240_000);

  afterAll(async () => {
    const off = await salts(["approvals", "set", "none", "--reason", "cleanup", "--json"], a.env);
    const id = /apr_[0-9a-z]+/.exec(off.stderr)?.[0];
    if (id) await salts(["approve", id, "--reason", "cleanup"], b.env);
    await new Promise((r) => setTimeout(r, POLICY_REFRESH_MS));
  }, 120_000);

  it("when the first admin is granted with --direct, then the operator's Google identity is the audited actor", async () => {
    const first = await createUser({}, "cli-first");
    const env = directEnv({ GOOGLE_APPLICATION_CREDENTIALS: fakeServiceAccountFile() });
    const r = await salts(
      ["--direct", "role", "grant", first.email, "admin", "--reason", "first admin", "--json"],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ uid: first.uid, roles: ["admin"] });
    expect((await adminAuth().getUser(first.uid)).customClaims).toEqual({ admin: true });
    const log = await salts(
      ["audit-log", "--target", "access", "--operation", "set_role", "--json"],
      auditor.env,
    );
    const entry = log.json().entries.find((e: any) => e.details?.uid === first.uid);
    expect(entry).toMatchObject({
      actor: { uid: SERVICE_ACCOUNT, via: "cli" },
      target: { kind: "system", id: "access" },
      reason: "first admin",
      result: "success",
    });
    expect(
      (await adminFirestore().collection("salts_roles").doc(encodeDocId(first.uid)).get()).get("roles"),
    ).toEqual(["admin"]);
  }, 180_000);

  it("when roles are listed, then the index shows holders checked against Auth, and --scan finds those granted outside the service", async () => {
    const scan = await salts(["roles", "--scan", "--json"], auditor.env);
    expect(scan.code, scan.stderr).toBe(0);
    const uids = scan.json().holders.map((h: any) => h.uid);
    expect(uids).toEqual(expect.arrayContaining([a.uid, b.uid, auditor.uid]));
    expect(scan.json().source).toBe("auth");
    const table = await salts(["roles", "--role", "admin"], auditor.env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^UID\s+EMAIL\s+ROLES\s+DISABLED/);
    expect(table.stdout).toContain(a.email);
    expect(table.stdout).not.toContain(auditor.email);
    expect(table.stderr).toContain("last full pass over Auth");
    const csv = await salts(["roles", "--output", "csv"], auditor.env);
    expect(csv.stdout.split("\n")[0]).toBe("uid,email,roles,disabled");
  }, 180_000);

  it("when an admin grants and revokes by email, then the holder's next command is allowed and then refused; self-demotion is refused", async () => {
    const holder = await operator({}, "cli-holder");
    expect((await salts(["status"], holder.env)).code).toBe(4);
    const grant = await salts(["role", "grant", holder.email, "auditor", "--reason", "audit"], a.env);
    expect(grant.code, grant.stderr).toBe(0);
    expect(grant.stdout).toContain(`Granted auditor for ${holder.uid}`);
    expect((await salts(["status", "--json"], holder.env)).code).toBe(0);
    const revoke = await salts(
      ["role", "revoke", holder.uid, "auditor", "--uid", "--reason", "done", "--json"],
      a.env,
    );
    expect(revoke.json()).toMatchObject({ uid: holder.uid, roles: [] });
    expect((await salts(["status"], holder.env)).code).toBe(4);
    const self = await salts(["role", "revoke", a.uid, "admin", "--reason", "bye"], a.env);
    expect(self.code).toBe(7);
    expect(self.stderr).toContain("own admin role");
    expect((await salts(["role", "grant", holder.email, "owner", "--reason", "x"], a.env)).code).toBe(2);
  }, 180_000);

  it("when erase is guarded, then erase exits 9 naming the request, and another admin's approve runs it", async () => {
    const set = await salts(["approvals", "set", "erase", "--reason", "four eyes"], a.env);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain("Guarded now: erase");
    const user = `cli-dual-${run}-1`;
    expect((await salts(["rotate", "user", user, "--force"], a.env)).code).toBe(0);
    const asked = await salts(["erase", user, "--reason", "GDPR", "--yes"], a.env);
    expect(asked.code).toBe(9);
    expect(asked.stdout).toBe("");
    const id = /salts approve (apr_[0-9a-z]+)/.exec(asked.stderr)?.[1];
    expect(id, asked.stderr).toBeDefined();
    expect(asked.stderr).toMatch(/^pending: awaiting approval: erase needs a second admin's approval/);
    const listed = await salts(["approvals", "--json"], auditor.env);
    expect(listed.json().approvals).toContainEqual(
      expect.objectContaining({ approval_id: id, state: "pending" }),
    );
    expect(listed.json().policy).toEqual({ operations: ["erase"], intact: true });
    const mine = await salts(["approve", id!, "--reason", "mine"], a.env);
    expect(mine.code).toBe(4);
    const approved = await salts(["approve", id!, "--reason", "checked", "--json"], b.env);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.json().result).toMatchObject({ erased: true, versions_destroyed: 1 });
    expect((await adminFirestore().collection("salts_user").doc(encodeDocId(user)).get()).exists).toBe(false);
    expect((await salts(["approve", id!, "--reason", "again"], b.env)).code).toBe(7);
  }, 240_000);

  it("when a guarded command runs with --wait, then it waits for the decision and prints the result (or exits 7 when rejected)", async () => {
    const user = `cli-dual-${run}-2`;
    expect((await salts(["rotate", "user", user, "--force"], a.env)).code).toBe(0);
    const waiting = salts(
      ["erase", user, "--reason", "GDPR 2", "--yes", "--wait", "--json"],
      a.env,
      undefined,
      180_000,
    );
    const approveWhenAsked = async (decision: string[]) => {
      for (let i = 0; i < 120; i++) {
        const listed = (await salts(["approvals", "--json"], b.env)).json().approvals as any[];
        const mine = listed.find((x) => x.request.user_id === user);
        if (mine) return salts(["approve", mine.approval_id, ...decision], b.env);
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error("the request never appeared");
    };
    const [done, decided] = await Promise.all([waiting, approveWhenAsked(["--reason", "ok"])]);
    expect(decided.code, decided.stderr).toBe(0);
    expect(done.code, done.stderr).toBe(0);
    expect(done.json()).toMatchObject({
      erased: true,
      versions_destroyed: 1,
      receipt: { rotation_id: expect.any(String) },
    });

    const other = `cli-dual-${run}-3`;
    expect((await salts(["rotate", "user", other, "--force"], a.env)).code).toBe(0);
    const refused = salts(
      ["erase", other, "--reason", "GDPR 3", "--yes", "--wait"],
      a.env,
      undefined,
      180_000,
    );
    const approveOther = async () => {
      for (let i = 0; i < 120; i++) {
        const listed = (await salts(["approvals", "--json"], b.env)).json().approvals as any[];
        const mine = listed.find((x) => x.request.user_id === other);
        if (mine) return salts(["approve", mine.approval_id, "--reject", "--reason", "no ticket"], b.env);
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error("the request never appeared");
    };
    const [rejected] = await Promise.all([refused, approveOther()]);
    expect(rejected.code).toBe(7);
    expect(rejected.stderr).toContain("was rejected by");
    expect((await adminFirestore().collection("salts_user").doc(encodeDocId(other)).get()).exists).toBe(true);
  }, 300_000);
});
