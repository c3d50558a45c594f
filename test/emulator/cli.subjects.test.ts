import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { call } from "../support/stack";
import { freshStart, salts, type Operator } from "./cli.harness";

/** `salts subject-report`, `salts scopes` and `salts scope put|rotate` as child processes, as an operator runs them. */
describe(
  "salts CLI: subject access and scopes (child processes against the emulators)",
  { timeout: 300_000 },
  () => {
    let admin: Operator;
    let auditor: Operator;
    const scopeId = `cli-${randomBytes(3).toString("hex")}`;

    beforeAll(async () => {
      ({ admin, auditor } = await freshStart());
    }, 300_000);

    it("when an admin puts a scope, then it is created with its consumers; an auditor lists it and cannot change it", async () => {
      const put = await salts(
        [
          "scope",
          "put",
          scopeId,
          "--rotation-days",
          "30",
          "--description",
          "CLI partner",
          "--consumer",
          admin.uid,
          "--consumer",
          "bq@demo-salts.iam.gserviceaccount.com",
          "--reason",
          "onboarding",
          "--json",
        ],
        admin.env,
      );
      expect(put.code, put.stderr).toBe(0);
      expect(put.json()).toMatchObject({
        created: true,
        scope: {
          scope_id: scopeId,
          version: 1,
          rotation_days: 30,
          consumers: [admin.uid, "bq@demo-salts.iam.gserviceaccount.com"],
        },
      });

      const listed = await salts(["scopes", "--output", "csv"], auditor.env);
      expect(listed.code, listed.stderr).toBe(0);
      const lines = listed.stdout.trim().split(/\r?\n/);
      expect(lines[0]).toBe("scope,version,rotation_days,next_rotation,due,consumers,description");
      expect(lines.find((l) => l.startsWith(`${scopeId},`))).toContain(`${scopeId},1,30,`);

      const human = await salts(["scopes"], auditor.env);
      expect(human.stdout).toMatch(new RegExp(`${scopeId}\\s+1\\s+30`));

      const refused = await salts(
        ["scope", "put", scopeId, "--rotation-days", "1", "--reason", "x"],
        auditor.env,
      );
      expect(refused.code).toBe(4);
      expect(refused.stderr).toMatch(/admin/);
    });

    it("when a scope is rotated, then it asks first without --yes, and with it the version grows", async () => {
      const asked = await salts(["scope", "rotate", scopeId, "--reason", "partner asked"], admin.env);
      expect(asked.code).toBe(2);
      expect(asked.stderr).toMatch(/--yes/);
      const rotated = await salts(
        ["scope", "rotate", scopeId, "--reason", "partner asked", "--yes"],
        admin.env,
      );
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(rotated.stdout).toContain("Rotated scope to version 2");
      const json = await salts(["scopes", "--json"], auditor.env);
      expect(json.json().scopes.find((s: { scope_id: string }) => s.scope_id === scopeId).version).toBe(2);
    });

    it("when an admin asks for a subject report, then json and csv carry the pseudonyms the library gives under each version", async () => {
      const uid = `cli-subject-${randomBytes(3).toString("hex")}`;
      const given = (
        await call<{ pseudonymized: { email: string; age: string } }>(
          "pseudonymizeTest",
          { user_id: uid, data: { email: "s@example.com", age: 42 } },
          { token: admin.token },
        )
      ).result!.pseudonymized;

      const report = await salts(
        [
          "subject-report",
          uid,
          "--value",
          "email=s@example.com",
          "--json-value",
          "age=42",
          "--reason",
          "DSAR 9",
          "--output",
          "json",
        ],
        admin.env,
      );
      expect(report.code, report.stderr).toBe(0);
      const r = report.json();
      expect(r).toMatchObject({ user_id: uid, state: "active" });
      expect(r.versions).toEqual([
        expect.objectContaining({ version: 1, pseudonyms: { email: given.email, age: given.age } }),
      ]);
      expect(r.audit.map((e: { operation: string }) => e.operation)).toContain("pseudonymize_test");

      const csv = await salts(
        ["subject-report", uid, "--value", "email=s@example.com", "--reason", "DSAR 9", "--output", "csv"],
        admin.env,
      );
      expect(csv.code, csv.stderr).toBe(0);
      expect(csv.stdout.trim().split(/\r?\n/)).toEqual([
        "salt,event_type,version,current,field,pseudonym",
        `user,,1,true,email,${given.email}`,
      ]);

      const human = await salts(
        ["subject-report", uid, "--value", "email=s@example.com", "--reason", "DSAR 9"],
        admin.env,
      );
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(/State\s+active/);
      expect(human.stdout).toContain(given.email);
      expect(human.stdout).toContain("subject_report");
    });

    it("when the report is asked wrongly, then a usage error names the flag, and an auditor is refused", async () => {
      const bad = await salts(
        ["subject-report", "someone", "--value", "no-equals-sign", "--reason", "r"],
        admin.env,
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--value takes field=value");
      const noReason = await salts(["subject-report", "someone"], admin.env);
      expect(noReason.code).toBe(2);
      expect(noReason.stderr).toContain("--reason");
      const refused = await salts(["subject-report", "someone", "--reason", "curious"], auditor.env);
      expect(refused.code).toBe(4);
    });
  },
);
