import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../functions/cli";
import { encodeDocId } from "../../functions/domain/ids";
import { adminFirestore, clearFirestore } from "../support/firestore";

const ENV = {
  SALT_BACKEND: "firestore",
  SALT_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
  PSEUDONYM_PEPPER: randomBytes(48).toString("base64"),
  AUDIT_KEY: randomBytes(48).toString("base64"),
  PEPPER_SOURCE: "runtime",
};

async function cli(...args: string[]): Promise<{ code: number; out: any; err: any }> {
  let stdout = "";
  let stderr = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((c) => ((stdout += String(c)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((c) => ((stderr += String(c)), true));
  try {
    const code = await main([...args, "--operator", "ops@example.com"]);
    const json = (t: string) => (t.trim().startsWith("{") ? JSON.parse(t) : t);
    return { code, out: stdout ? json(stdout) : null, err: stderr ? json(stderr) : null };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe("operator CLI (same use cases, against the Firestore emulator)", () => {
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    await clearFirestore();
    for (const [k, v] of Object.entries(ENV)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("when an operator rotates, audits and erases, then the results and the audit trail say so with via cli", async () => {
    expect((await cli("rotate-user", "carol")).code).toBe(3);
    const created = await cli("rotate-user", "carol", "--force", "--reason", "ticket 42");
    expect(created.code).toBe(0);
    expect(created.out).toMatchObject({ created: true, salt: { id: "carol", version: 1 } });
    expect((await cli("rotate-user", "carol")).out.salt.version).toBe(2);
    const status = await cli("status");
    expect(status.out).toMatchObject({
      storage_type: "firestore",
      users: { total: 1 },
      pepper: { version: 1 },
    });
    const audit = await cli("audit", "carol");
    expect(audit.out.history).toHaveLength(1);
    expect(audit.out.audit[0].actor).toEqual({ uid: "ops@example.com", via: "cli" });
    const erased = await cli("erase", "carol", "--reason", "erasure request");
    expect(erased.out).toMatchObject({ erased: true, versions_destroyed: 2 });
    expect((await adminFirestore().collection("salts_user").doc(encodeDocId("carol")).get()).exists).toBe(
      false,
    );
  });

  it("when arguments are bad, then exit 2 with the offending fields", async () => {
    const r = await cli("rotate-due", "--kind", "both", "--limit", "0");
    expect(r.code).toBe(2);
    expect(r.err.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(["kind", "limit"]);
    const unknown = await cli("nonsense");
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^usage: salts/);
    expect((await cli("config", "stage", "--user-days", "0")).code).toBe(2);
  });

  it("when intervals are staged, then they apply only after a reload", async () => {
    expect((await cli("config", "stage", "--user-days", "14")).code).toBe(0);
    expect((await cli("status")).out.rotation_intervals.user_days).toBe(90);
    expect((await cli("config", "reload")).out.rotation_intervals).toEqual({
      user_days: 14,
      global_days: 30,
    });
    expect((await cli("status")).out.rotation_intervals.user_days).toBe(14);
    await cli("config", "stage");
    expect((await cli("config", "reload")).out.rotation_intervals).toEqual({
      user_days: 90,
      global_days: 30,
    });
  });

  it("when a sweep is run by hand, then it reports and audits like the scheduled one", async () => {
    const r = await cli("sweep");
    expect(r.code).toBe(0);
    expect(r.out).toMatchObject({ ran: true, scan_complete: true });
    const log = await cli("audit-log", "--operation", "sweep");
    expect(log.out.entries[0]).toMatchObject({ operation: "sweep", actor: { via: "cli" } });
  });
});
