import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseSince } from "../../functions/cli/commands/auditLog";
import { CliError } from "../../functions/cli/core/exits";
import { adcIdentity } from "../../functions/cli/core/identity";
import { invoke, type Answer, type Transport } from "../../functions/cli/core/transport";
import { relativeTime } from "../../functions/cli/ui/output";
import { tempDir } from "./cli.harness";

/** The CLI's pure parts, in-process: retries and request ids, identities, times. */
function scripted(outcomes: (Answer | CliError)[]): Transport & { bodies: Record<string, unknown>[] } {
  const bodies: Record<string, unknown>[] = [];
  return {
    mode: "callable",
    bodies,
    async call(_name, data) {
      bodies.push(data);
      const next = outcomes.shift();
      if (!next) throw new Error("no more outcomes");
      if (next instanceof CliError) throw next;
      return next;
    },
    close: async () => undefined,
  };
}

const ok: Answer = { correlation_id: "c1" };

describe("salts CLI pieces", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("when a mutation's answer is lost, then it is retried with the same request_id", async () => {
    const t = scripted([new CliError("deadline-exceeded", "no answer"), ok]);
    await expect(invoke(t, "rotateUser", { user_id: "a" })).resolves.toEqual(ok);
    expect(t.bodies).toHaveLength(2);
    expect(t.bodies[0]!.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.bodies[1]!.request_id).toBe(t.bodies[0]!.request_id);
  });

  it("when the outcome stays unknown, then the error names the request_id to retry with", async () => {
    const lost = () => new CliError("deadline-exceeded", "no answer");
    const t = scripted([lost(), lost(), lost()]);
    const e = (await invoke(t, "erase", { user_id: "a", reason: "r" }, { requestId: "req-1" }).catch(
      (x) => x,
    )) as CliError;
    expect(e.code).toBe("deadline-exceeded");
    expect(e.exitCode).toBe(5);
    expect(e.hint).toContain("--request-id req-1");
    expect(t.bodies.map((b) => b.request_id)).toEqual(["req-1", "req-1", "req-1"]);
  });

  it("when a read's answer is lost, then it is not retried blindly, and a refused call is never retried", async () => {
    const t = scripted([new CliError("deadline-exceeded", "no answer")]);
    await expect(invoke(t, "status", {})).rejects.toMatchObject({ code: "deadline-exceeded" });
    expect(t.bodies).toEqual([{}]);
    const refused = scripted([new CliError("permission-denied", "no")]);
    await expect(invoke(refused, "rotateUser", { user_id: "a" })).rejects.toMatchObject({ exitCode: 4 });
    expect(refused.bodies).toHaveLength(1);
  });

  it("when a service predates request_id, then the call is repeated once without it", async () => {
    const issues = [{ path: "request_id", message: "is not a known field" }];
    const t = scripted([new CliError("invalid-argument", "bad", { issues }), ok]);
    await invoke(t, "rotateDue", { kind: "all" });
    expect(t.bodies[1]).toEqual({ kind: "all" });
  });

  it("when credentials are impersonated or absent, then the identity says whose they are or fails closed", async () => {
    const file = path.join(tempDir("adc"), "impersonated.json");
    writeFileSync(
      file,
      JSON.stringify({
        type: "impersonated_service_account",
        service_account_impersonation_url:
          "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/ops@p.iam.gserviceaccount.com:generateAccessToken",
      }),
    );
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file;
    await expect(adcIdentity()).resolves.toEqual({ uid: "ops@p.iam.gserviceaccount.com", source: file });

    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.CLOUDSDK_CONFIG = tempDir("gcloud");
    delete process.env.FIRESTORE_EMULATOR_HOST;
    process.env.METADATA_SERVER_DETECTION = "none";
    await expect(adcIdentity()).rejects.toMatchObject({ code: "failed-precondition", exitCode: 7 });

    const gcloud = tempDir("gcloud-sa");
    mkdirSync(gcloud, { recursive: true });
    writeFileSync(
      path.join(gcloud, "application_default_credentials.json"),
      JSON.stringify({ type: "service_account", client_email: "wk@p.iam.gserviceaccount.com" }),
    );
    process.env.CLOUDSDK_CONFIG = gcloud;
    await expect(adcIdentity()).resolves.toMatchObject({ uid: "wk@p.iam.gserviceaccount.com" });
  });

  it("when times are shown or parsed, then they read as people say them", () => {
    const now = Date.parse("2026-11-25T12:00:00Z");
    expect(relativeTime("2026-11-25T11:57:00Z", now)).toBe("3 minutes ago");
    expect(relativeTime("2027-02-23T12:00:00Z", now)).toBe("in 3 months");
    expect(relativeTime("2026-11-25T12:00:02Z", now)).toBe("just now");
    expect(parseSince("7d", now)).toBe(now - 7 * 86_400_000);
    expect(parseSince("2026-11-01", now)).toBe(Date.parse("2026-11-01"));
    expect(() => parseSince("last week", now)).toThrow(/is not a time/);
  });
});
