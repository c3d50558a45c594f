import { writeFileSync, readFileSync } from "node:fs";
import { userInfo } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { clearFirestore } from "../support/firestore";
import {
  directEnv,
  fakeServiceAccountFile,
  operator,
  salts,
  SERVICE_ACCOUNT,
  tempDir,
  type Env,
} from "./cli.harness";

describe("salts CLI direct (break-glass) mode and local files", () => {
  let asServiceAccount: Env;

  beforeAll(async () => {
    await clearFirestore();
    asServiceAccount = directEnv({ GOOGLE_APPLICATION_CREDENTIALS: fakeServiceAccountFile() });
  });

  it("when a salt is rotated directly, then the audit actor is the service account of the credentials file", async () => {
    const r = await salts(
      ["--direct", "rotate", "user", "direct-user", "--force", "--reason", "incident 9", "--json"],
      asServiceAccount,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.json()).toMatchObject({ created: true, salt: { id: "direct-user", version: 1 } });
    const log = await salts(["--direct", "audit-log", "--target", "direct-user", "--json"], asServiceAccount);
    const entry = log.json().entries.find((e: any) => e.operation === "rotate_user");
    expect(entry).toMatchObject({
      actor: { uid: SERVICE_ACCOUNT, via: "cli" },
      reason: "incident 9",
      correlation_id: r.json().correlation_id,
    });
    // The service's own log lines (JSON, written through the console) reach stderr only with --verbose.
    const verbose = await salts(
      ["--direct", "rotate", "user", "direct-user", "--json", "--verbose"],
      asServiceAccount,
    );
    expect(verbose.json().salt.version).toBe(2);
    expect(verbose.stderr).toMatch(/^\{.*"severity":"INFO".*"message":"salt rotated".*\}$/m);
    const who = await salts(["--direct", "whoami", "--json"], asServiceAccount);
    expect(who.json()).toMatchObject({ mode: "direct", actor: SERVICE_ACCOUNT });
  });

  it("when no Google credentials exist against the emulator, then the actor is a marked local identity, never a typed name", async () => {
    const r = await salts(["--direct", "rotate", "user", "direct-user", "--json"], directEnv());
    expect(r.code, r.stderr).toBe(0);
    const log = await salts(
      ["--direct", "audit-log", "--target", "direct-user", "--limit", "1", "--json"],
      directEnv(),
    );
    expect(log.json().entries[0].actor).toEqual({ uid: `emulator:${userInfo().username}`, via: "cli" });
    const typed = await salts(["--direct", "status", "--operator", "someone-else"], directEnv());
    expect(typed.code).toBe(2);
    expect(typed.stderr).toContain("unknown option '--operator'");
  });

  it("when status is read directly and through the callable, then both answers have the contract's fields", async () => {
    const direct = (await salts(["--direct", "status", "--json"], asServiceAccount)).json();
    const auditor = await operator({ auditor: true }, "auditor");
    const viaCallable = (await salts(["status", "--json"], auditor.env)).json();
    expect(Object.keys(direct).sort()).toEqual(Object.keys(viaCallable).sort());
    expect(direct.users).toEqual(viaCallable.users);
  });

  it("when intervals are staged and reloaded directly, then they apply only after the reload", async () => {
    expect((await salts(["config", "stage", "--user-days", "14"], asServiceAccount)).code).toBe(2); // direct only
    expect((await salts(["--direct", "config", "stage", "--user-days", "14"], asServiceAccount)).code).toBe(
      0,
    );
    expect(
      (await salts(["--direct", "status", "--json"], asServiceAccount)).json().rotation_intervals.user_days,
    ).toBe(90);
    const reload = await salts(["--direct", "config", "reload", "--json"], asServiceAccount);
    expect(reload.json().rotation_intervals).toEqual({ user_days: 14, global_days: 30 });
    await salts(["--direct", "config", "stage"], asServiceAccount);
    const back = await salts(["--direct", "config", "reload"], asServiceAccount);
    expect(back.stdout).toMatch(/^User salts\s+every 90 days$/m);
  });

  it("when the sweep is run by hand, then it reports and its audit entry names the operator", async () => {
    const r = await salts(["--direct", "sweep", "--json"], asServiceAccount);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ran: true, scan_complete: true, undecryptable: 0 });
    const log = await salts(["--direct", "audit-log", "--operation", "sweep", "--json"], asServiceAccount);
    expect(log.json().entries[0].actor).toEqual({ uid: SERVICE_ACCOUNT, via: "cli" });
  });

  it("when a jsonl file is pseudonymized and verified, then chosen fields become pseudonyms and verify finds tampering", async () => {
    const dir = tempDir("files");
    const original = path.join(dir, "users.jsonl");
    const records = [
      { user_id: "file-a", email: "a@example.com", plan: "pro" },
      { user_id: "file-b", email: "b@example.com", plan: null },
    ];
    writeFileSync(original, records.map((r) => JSON.stringify(r)).join("\n"));
    const out = await salts(["pseudonymize", original, "--fields", "email"], asServiceAccount);
    expect(out.code, out.stderr).toBe(0);
    const rows = out.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      user_id: "file-a",
      plan: "pro",
      email: expect.stringMatching(/^ps1\.u\.1\.1\.[A-Za-z0-9_-]+$/),
    });
    const pseudonymized = path.join(dir, "users.pseudo.jsonl");
    writeFileSync(pseudonymized, out.stdout);
    const ok = await salts(["verify", original, pseudonymized, "--fields", "email"], asServiceAccount);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe("✓ 2 values in 2 records checked: all match");
    writeFileSync(pseudonymized, out.stdout.replace(rows[1].email, rows[0].email));
    const bad = await salts(
      ["verify", original, pseudonymized, "--fields", "email", "--json"],
      asServiceAccount,
    );
    expect(bad.code).toBe(8);
    expect(bad.json()).toMatchObject({
      records: 2,
      checked: 2,
      matched: 1,
      mismatched: [{ record: 2, field: "email" }],
    });
  });

  it("when csv comes on stdin, then csv goes to the file given, and analytics events use their event type's salt", async () => {
    const file = path.join(tempDir("csv"), "out.csv");
    const csv = 'user_id,email,country\nfile-a,a@example.com,FR\nfile-c,"c,d@example.com",DE\n';
    const r = await salts(
      ["pseudonymize", "--format", "csv", "--fields", "email", "--file", file],
      asServiceAccount,
      csv,
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(file, "utf8").trim().split("\n");
    expect(lines[0]).toBe("user_id,email,country");
    expect(lines[1]).toMatch(/^file-a,ps1\.u\.1\.1\.[A-Za-z0-9_-]+,FR$/);
    expect(lines).toHaveLength(3);
    const events = '{"event_type":"signup","user_id":"u1","ts":1}\n';
    const ev = await salts(["pseudonymize", "--analytics"], asServiceAccount, events);
    expect(JSON.parse(ev.stdout)).toMatchObject({
      event_type: "signup",
      ts: 1,
      user_id: expect.stringMatching(/^ps1\.g\.1\.1\./),
    });
  });
});
