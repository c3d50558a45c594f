import { describe, expect, it } from "vitest";
import * as index from "../../functions/index";

type Endpoint = { __endpoint: { secretEnvironmentVariables?: { key: string }[] } };
const secretsOf = (fn: unknown) =>
  ((fn as Endpoint).__endpoint.secretEnvironmentVariables ?? []).map((s) => s.key).sort();

describe("each function binds only the secrets it uses (built function metadata)", () => {
  const fns = index.salts as unknown as Record<string, unknown>;

  it("when the metrics endpoint is deployed, then it binds the metrics token and nothing else", () => {
    expect(secretsOf(fns.metrics)).toEqual(["METRICS_TOKEN"]);
  });

  it("when callables are deployed, then only those that use the pepper or the key bind them", () => {
    const expected: Record<string, string[]> = {
      status: ["AUDIT_KEY", "PSEUDONYM_PEPPER", "SALT_ENCRYPTION_KEY"],
      pseudonymizeTest: ["AUDIT_KEY", "PSEUDONYM_PEPPER", "SALT_ENCRYPTION_KEY"],
      rotateUser: ["AUDIT_KEY", "SALT_ENCRYPTION_KEY"],
      rotateGlobal: ["AUDIT_KEY", "SALT_ENCRYPTION_KEY"],
      rotateDue: ["AUDIT_KEY", "SALT_ENCRYPTION_KEY"],
      rewrap: ["AUDIT_KEY", "SALT_ENCRYPTION_KEY"],
      erase: ["AUDIT_KEY"],
      audit: ["AUDIT_KEY"],
      auditLog: ["AUDIT_KEY"],
      auditVerify: ["AUDIT_KEY"],
      forecast: ["AUDIT_KEY"],
      job: ["AUDIT_KEY"],
      listJobs: ["AUDIT_KEY"],
      listSalts: ["AUDIT_KEY"],
      reloadConfig: ["AUDIT_KEY"],
      roles: ["AUDIT_KEY"],
      setRole: ["AUDIT_KEY"],
      setApprovals: ["AUDIT_KEY"],
      // An approved rotate_due or rewrap runs inside approve.
      approve: ["AUDIT_KEY", "SALT_ENCRYPTION_KEY"],
      approvals: ["AUDIT_KEY"],
      rotateShard: ["AUDIT_KEY", "SALT_ENCRYPTION_KEY"],
      integritySweep: ["AUDIT_KEY", "SALT_ENCRYPTION_KEY"],
      bigqueryInfo: ["AUDIT_KEY"],
      // BigQuery's endpoint pseudonymizes (pepper), loads and creates salts (key) and audits each job.
      pseudonymizeBatch: ["AUDIT_KEY", "PSEUDONYM_PEPPER", "SALT_ENCRYPTION_KEY"],
      // The event drain reads the outbox and publishes: no secret.
      publishEvents: [],
      drainEvents: [],
      subjectReport: ["AUDIT_KEY", "PSEUDONYM_PEPPER", "SALT_ENCRYPTION_KEY"],
      putScope: ["AUDIT_KEY", "SALT_ENCRYPTION_KEY"],
      scopes: ["AUDIT_KEY"],
      rotateScope: ["AUDIT_KEY", "SALT_ENCRYPTION_KEY"],
    };
    for (const [name, secrets] of Object.entries(expected))
      expect(secretsOf(fns[name]), name).toEqual(secrets);
    // No function is left out of this list.
    expect(
      Object.keys(fns)
        .filter((n) => n !== "metrics")
        .sort(),
    ).toEqual(Object.keys(expected).sort());
  });
});
