import { beforeAll, describe, expect, it } from "vitest";
import { call, createUser, type TestUser } from "../support/stack";

const HIGH = "a\ud800b";
const LOW = "a\udfffb";

/** Every string field of every callable, with a request that is valid apart from it. */
const CASES: [fn: string, base: Record<string, unknown>, field: string, path?: string][] = [
  ["rotateUser", { user_id: "u" }, "user_id"],
  ["rotateUser", { user_id: "u" }, "reason"],
  ["rotateUser", { user_id: "u" }, "request_id"],
  ["rotateGlobal", { event_type: "e" }, "event_type"],
  ["rotateGlobal", { event_type: "e" }, "reason"],
  ["rotateGlobal", { event_type: "e" }, "request_id"],
  ["rotateDue", { dry_run: true }, "request_id"],
  ["rotateDue", { dry_run: true }, "kind"],
  ["rewrap", { dry_run: true }, "request_id"],
  ["job", {}, "job_id"],
  ["listJobs", {}, "cursor"],
  ["listSalts", { kind: "user" }, "cursor"],
  ["forecast", {}, "kind"],
  ["audit", {}, "user_id"],
  ["auditLog", {}, "cursor"],
  ["auditLog", {}, "target_id"],
  ["auditLog", {}, "operation"],
  ["auditLog", {}, "result"],
  ["auditLog", {}, "from"],
  ["auditLog", {}, "to"],
  ["auditVerify", {}, "target_id"],
  ["auditVerify", {}, "cursor"],
  ["erase", { user_id: "u", reason: "r" }, "user_id"],
  ["erase", { user_id: "u", reason: "r" }, "reason"],
  ["erase", { user_id: "u", reason: "r" }, "request_id"],
  ["pseudonymizeTest", { user_id: "u", data: { f: "v" } }, "user_id"],
  ["pseudonymizeTest", { user_id: "u", data: { f: "v" } }, "event_type"],
];

describe("well-formed Unicode in every request string (functions emulator over HTTP)", () => {
  let admin: TestUser;
  beforeAll(async () => {
    admin = await createUser({ admin: true }, "unicode");
  });

  for (const surrogate of [HIGH, LOW]) {
    const which = surrogate === HIGH ? "high" : "low";
    it.each(CASES)(
      `when %s gets a lone ${which} surrogate in %j.%s, then invalid-argument names the field`,
      async (fn, base, field) => {
        const r = await call(fn, { ...base, [field]: surrogate }, { token: admin.token });
        expect(r.error?.status).toBe("INVALID_ARGUMENT");
        const paths = ((r.error?.details?.issues ?? []) as { path: string }[]).map((i) => i.path);
        expect(paths).toContain(field);
      },
    );

    it(`when pseudonymizeTest gets a lone ${which} surrogate in a data key, a data value or a listed field, then invalid-argument names it`, async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ user_id: "u", data: { [`k${surrogate}`]: "v" } }, `data.k${surrogate}`],
        [{ user_id: "u", data: { f: surrogate } }, "data.f"],
        [{ user_id: "u", data: { f: "v" }, fields: [surrogate] }, "fields.0"],
      ];
      for (const [data, path] of cases) {
        const r = await call("pseudonymizeTest", data, { token: admin.token });
        expect(r.error?.status).toBe("INVALID_ARGUMENT");
        const paths = ((r.error?.details?.issues ?? []) as { path: string }[]).map((i) => i.path);
        expect(paths.some((p) => p === path || p.startsWith("data") || p.startsWith("fields"))).toBe(true);
      }
    });
  }
});
