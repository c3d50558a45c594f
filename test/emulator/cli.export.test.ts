import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { beforeAll, describe, expect, it } from "vitest";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { call } from "../support/stack";
import { operator, salts, tempDir, type Operator } from "./cli.harness";

const TARGET = "export-user";
const ROTATIONS = 23; // with the creation: 24 entries, four pages of 7

describe("salts audit-log export: every page, streamed, as csv or jsonl", () => {
  let auditor: Operator;
  let stored: string[];

  beforeAll(async () => {
    await clearFirestore();
    const admin = await operator({ admin: true }, "admin");
    auditor = await operator({ auditor: true }, "auditor");
    await call("rotateUser", { user_id: TARGET, force: true, reason: "first" }, { token: admin.token });
    for (let i = 1; i <= ROTATIONS; i++) {
      const r = await call(
        "rotateUser",
        { user_id: TARGET, reason: `rotation ${i}` },
        { token: admin.token },
      );
      expect(r.result).toBeDefined();
    }
    const snap = await adminFirestore().collection("salts_audit").where("target.id", "==", TARGET).get();
    stored = snap.docs.map((d) => d.id);
    expect(stored.length).toBe(ROTATIONS + 1);
  });

  it("when exported as csv in pages of 7, then every page is fetched and each entry is one row under one header", async () => {
    const r = await salts(
      ["audit-log", "export", "--target", TARGET, "--page-size", "7", "--verbose"],
      auditor.env,
    );
    expect(r.code, r.stderr).toBe(0);
    const pagesFetched = r.stderr.split("\n").filter((l) => /salts-auditLog -> HTTP 200/.test(l)).length;
    expect(pagesFetched).toBeGreaterThanOrEqual(4);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(
      "id,at,actor_uid,actor_via,operation,target_kind,target_id,result,rotation_id,correlation_id,reason,details,verified",
    );
    expect(lines.filter((l) => l.startsWith("id,"))).toHaveLength(1);
    const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
    expect(rows.map((row) => row.id).sort()).toEqual([...stored].sort());
    expect(rows.every((row) => row.target_id === TARGET && row.operation === "rotate_user")).toBe(true);
    expect(rows.every((row) => row.verified === "true")).toBe(true);
    const times = rows.map((row) => Date.parse(row.at!));
    expect(times).toEqual([...times].sort((a, b) => b - a)); // newest first, across page boundaries
    expect(rows.at(-1)).toMatchObject({ reason: "first", result: "success", actor_via: "callable" });
  });

  it("when exported as jsonl to a file, then the file holds every entry as the contract's AuditEntry", async () => {
    const file = path.join(tempDir("export"), "audit.jsonl");
    const r = await salts(
      ["audit-log", "export", "--target", TARGET, "--page-size", "5", "--output", "jsonl", "--file", file],
      auditor.env,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("");
    const entries = readFileSync(file, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(entries).toHaveLength(ROTATIONS + 1);
    for (const e of entries) {
      expect(Object.keys(e)).toEqual(
        expect.arrayContaining(["id", "at", "actor", "operation", "target", "result", "correlation_id"]),
      );
    }
  });

  it("when --since excludes everything, then only the header is written and paging stops at once", async () => {
    const r = await salts(
      ["audit-log", "export", "--target", TARGET, "--page-size", "5", "--since", "2999-01-01", "--verbose"],
      auditor.env,
    );
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stderr.split("\n").filter((l) => /salts-auditLog -> HTTP 200/.test(l))).toHaveLength(1);
  });

  it("when an export is asked as json, then it is a usage error: exports stream csv or jsonl", async () => {
    const r = await salts(["audit-log", "export", "--json"], auditor.env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
  });
});
