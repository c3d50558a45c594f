import { describe, expect, it } from "vitest";
import { functionEnv, probeInstance, type ProbeReport } from "../support/functionInstance";

// What loads when a function instance starts (a fresh process requiring the functions entry with the
// environment the runtime gives it): only the trigger declarations and what their deploy options are
// computed from. The handlers, their use cases and their clients load on the first call
// (test/emulator/coldLoad.e2e.test.ts follows a first call).

/** Packages a function's first call may load, never its instance's start. */
const CLIENTS_AND_SCHEMAS = [
  "zod",
  "prom-client",
  "@google-cloud/secret-manager",
  "google-gax",
  "@google-cloud/firestore",
];
/** Layers of functions/ whose modules load with the entry: declarations, settings, the domain. */
const DECLARATION_LAYERS = /^functions\/(index|triggers\/.*|config\/.*|domain\/.*)$/;

const own = (r: ProbeReport) => r.modules.filter((m) => m.startsWith("functions/"));

async function start(target: string): Promise<ProbeReport> {
  return probeInstance({ entry: "functions/index.ts", env: functionEnv(target), source: true });
}

describe("what a function instance loads when it starts", () => {
  const targets = ["salts.status", "salts.auditLog", "salts.metrics", "salts.rotateShard"];
  const reports = Promise.all(targets.map(start));

  it("when any function's instance starts, then only trigger declarations, settings and the domain load", async () => {
    for (const [i, report] of (await reports).entries()) {
      expect(own(report).length, targets[i]).toBeGreaterThan(3);
      expect(
        own(report).filter((m) => !DECLARATION_LAYERS.test(m)),
        targets[i],
      ).toEqual([]);
    }
  }, 120_000);

  it("when a read-only callable's instance starts, then neither the job engine nor the Secret Manager client loads", async () => {
    const [status, auditLog] = await reports;
    for (const report of [status!, auditLog!]) {
      expect(report.modules.filter((m) => m.startsWith("functions/usecases/"))).toEqual([]);
      expect(report.modules).not.toContain("@google-cloud/secret-manager");
      expect(report.modules).not.toContain("google-gax");
    }
  }, 120_000);

  it("when the metrics function's instance starts, then no Secret Manager client, schema, operation table or prom-client loads", async () => {
    const metrics = (await reports)[2]!;
    expect(metrics.modules).toContain("functions/triggers/workers");
    expect(metrics.modules.filter((m) => CLIENTS_AND_SCHEMAS.includes(m))).toEqual([]);
    expect(metrics.modules).not.toContain("functions/edge/operations");
  }, 120_000);

  it("when any function's instance starts, then no client library and no zod schema load with it", async () => {
    for (const [i, report] of (await reports).entries()) {
      expect(
        report.modules.filter((m) => CLIENTS_AND_SCHEMAS.includes(m)),
        targets[i],
      ).toEqual([]);
    }
  }, 120_000);
});
