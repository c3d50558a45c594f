import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../functions/usecases/deps";
import { clearFirestore } from "../support/firestore";
import { firestoreRuntime } from "../support/runtimes";
import {
  call,
  createUser,
  localSecrets,
  secretForms,
  setTestClock,
  type CallResult,
  type TestUser,
} from "../support/stack";

interface Report {
  user_id: string;
  state: string;
  salt?: { version: number };
  versions: {
    version: number;
    created_at: string;
    retired_at?: string;
    pseudonyms: Record<string, string>;
  }[];
  globals: { event_type: string; version: number; pseudonyms: Record<string, string> }[];
  erased_at?: string;
  audit: { operation: string; target: { kind: string; id: string }; result: string }[];
  audit_truncated: boolean;
  pepper_version: number;
  generated_at: string;
}

const MINUTE = 60_000;
const values = { email: "subject@example.com", phone: "+33 1 23 45 67 89", age: 42 };

describe(
  "salts-subjectReport over HTTP (functions + auth + firestore emulators)",
  { timeout: 300_000 },
  () => {
    let admin: TestUser;
    let auditor: TestUser;
    let library: Services;
    // The functions' caches hold a salt for SALT_CACHE_TTL_SECONDS: each step moves their clock past it.
    let offset = 0;
    const later = () => setTestClock((offset += 2 * MINUTE));

    beforeAll(async () => {
      await clearFirestore();
      await setTestClock(0);
      [admin, auditor] = await Promise.all([
        createUser({ admin: true }, "admin"),
        createUser({ auditor: true }, "auditor"),
      ]);
      // The library as another function of the project uses it: the same Firestore, pepper and key.
      const s = localSecrets();
      library = firestoreRuntime({
        key: s.SALT_ENCRYPTION_KEY!,
        pepper: s.PSEUDONYM_PEPPER,
        auditKey: s.AUDIT_KEY,
        config: { cacheTtlSeconds: 0 },
      });
    });

    afterAll(() => setTestClock(0));

    const report = (data: object, token = admin.token) => call<Report>("subjectReport", data, { token });

    it("when a subject's salt rotated twice, then each retained version carries the pseudonyms the library gave under it", async () => {
      const uid = `subject-${randomBytes(4).toString("hex")}`;
      const fields = Object.keys(values);
      const byVersion = new Map<number, Record<string, unknown>>();
      const events = new Map<number, Record<string, unknown>>();
      for (let v = 1; v <= 3; v++) {
        if (v > 1) {
          const r = await call(
            "rotateUser",
            { user_id: uid, reason: `rotation ${v}` },
            { token: admin.token },
          );
          expect(r.result, JSON.stringify(r.error)).toBeDefined();
          await later();
        }
        const lib = await library.pseudonymizer.pseudonymizeUserData(uid, values, fields);
        expect(lib.saltVersion).toBe(v);
        byVersion.set(v, lib.data);
        // The dev endpoint is the same library running in a function: it agrees.
        const viaHttp = await call<{ pseudonymized: Record<string, unknown>; salt_version: number }>(
          "pseudonymizeTest",
          { user_id: uid, data: values },
          { token: admin.token },
        );
        expect(viaHttp.result).toMatchObject({ salt_version: v, pseudonymized: lib.data });
      }
      const event = await library.pseudonymizer.pseudonymizeAnalyticsData(
        { event_type: "signup", user_id: uid, ...values },
        ["user_id", ...fields],
      );
      events.set(event.saltVersion, event.data);

      const r = await report({
        user_id: uid,
        values,
        event_types: ["signup", "never-used"],
        reason: "DSAR 17",
      });
      expect(r.error, JSON.stringify(r.error)).toBeUndefined();
      const rep = r.result!;
      expect(rep).toMatchObject({ user_id: uid, state: "active", salt: { version: 3 }, pepper_version: 1 });
      expect(rep.erased_at).toBeUndefined();
      expect(rep.versions.map((v) => v.version)).toEqual([3, 2, 1]);
      expect(rep.versions[0]!.retired_at).toBeUndefined();
      for (const v of rep.versions.slice(1)) expect(v.retired_at).toEqual(expect.any(String));
      for (const v of rep.versions) {
        const lib = byVersion.get(v.version)!;
        expect(v.pseudonyms).toEqual({ email: lib.email, phone: lib.phone, age: lib.age });
      }
      // Globals: the event type that exists, bound to the subject, user_id included; none for one never used.
      expect(rep.globals).toHaveLength(1);
      const g = rep.globals[0]!;
      const lib = events.get(g.version)!;
      expect(g).toMatchObject({ event_type: "signup" });
      expect(g.pseudonyms).toEqual({
        email: lib.email,
        phone: lib.phone,
        age: lib.age,
        user_id: lib.user_id,
      });
      // The subject's trail: its rotations and the dev endpoint's pseudonymizations, newest first.
      const ops = rep.audit.map((e) => e.operation);
      expect(ops.filter((o) => o === "rotate_user")).toHaveLength(2);
      expect(ops.filter((o) => o === "pseudonymize_test")).toHaveLength(3);
      expect(rep.audit.every((e) => e.target.kind === "user" && e.target.id === uid)).toBe(true);
      expect(rep.audit_truncated).toBe(false);
      // The report itself is an entry of the trail (values are not in it).
      const log = await call<{ entries: { operation: string; reason?: string; details?: object }[] }>(
        "auditLog",
        { target_id: uid, operation: "subject_report" },
        { token: auditor.token },
      );
      expect(log.result!.entries).toHaveLength(1);
      expect(log.result!.entries[0]).toMatchObject({
        reason: "DSAR 17",
        details: { state: "active", versions: 3 },
      });
      expect(JSON.stringify(log.result!.entries[0])).not.toContain("subject@example.com");
      // No secret in the answer.
      const s = localSecrets();
      for (const name of ["PSEUDONYM_PEPPER", "SALT_ENCRYPTION_KEY", "AUDIT_KEY"])
        for (const form of secretForms(s[name]!)) expect(r.raw).not.toContain(form);
    });

    it("when retried with its request_id, then the first report comes back and the trail has one entry", async () => {
      const uid = `retry-${randomBytes(4).toString("hex")}`;
      await library.pseudonymizer.pseudonymizeUserData(uid, values, ["email"]);
      const data = {
        user_id: uid,
        values: { email: values.email },
        reason: "DSAR 18",
        request_id: `req-${uid}`,
      };
      const first = await report(data);
      await later();
      const second = await report(data);
      expect(second.result!.generated_at).toBe(first.result!.generated_at);
      expect(second.result!.versions).toEqual(first.result!.versions);
      const reused = await report({ ...data, reason: "another request" });
      expect(reused.error?.status).toBe("FAILED_PRECONDITION");
      const log = await call<{ entries: { result: string }[] }>(
        "auditLog",
        { target_id: uid, operation: "subject_report" },
        { token: auditor.token },
      );
      // One report given (the retry changed nothing), and the refused reuse of its id.
      expect(log.result!.entries.map((e) => e.result).sort()).toEqual(["error", "success"]);
    });

    it("when the subject was erased, then the state is erased with erased_at, and no version or pseudonym remains", async () => {
      const uid = `erased-${randomBytes(4).toString("hex")}`;
      await library.pseudonymizer.pseudonymizeAnalyticsData({ event_type: "signup", user_id: uid });
      await call("rotateUser", { user_id: uid }, { token: admin.token });
      const erased = await call<{ receipt: { erased_at: string } }>(
        "erase",
        { user_id: uid, reason: "GDPR art. 17" },
        { token: admin.token },
      );
      expect(erased.result).toBeDefined();
      const r = await report({ user_id: uid, values, event_types: ["signup"], reason: "DSAR after erasure" });
      expect(r.result).toMatchObject({ user_id: uid, state: "erased", versions: [], globals: [] });
      expect(r.result!.salt).toBeUndefined();
      // The erase entry's time (the receipt's is taken a moment before the commit).
      const at = Date.parse(r.result!.erased_at!);
      expect(Math.abs(at - Date.parse(erased.result!.receipt.erased_at))).toBeLessThan(MINUTE);
      expect(r.result!.audit.map((e) => e.operation)).toContain("erase");
    });

    it("when the subject was never seen, then the state is unknown and nothing is created", async () => {
      const uid = `nobody-${randomBytes(4).toString("hex")}`;
      const r = await report({ user_id: uid, values, event_types: ["signup"], reason: "DSAR" });
      expect(r.result).toMatchObject({ state: "unknown", versions: [], globals: [] });
      expect(await library.salts.record("user", uid)).toBeNull();
    });

    it("when an auditor asks, then permission-denied, and the refusal is in the trail", async () => {
      const uid = `probe-${randomBytes(4).toString("hex")}`;
      const r: CallResult<Report> = await report({ user_id: uid, reason: "curious" }, auditor.token);
      expect(r.error?.status).toBe("PERMISSION_DENIED");
      const log = await call<{ entries: { operation: string; result: string; actor: { uid: string } }[] }>(
        "auditLog",
        { target_id: uid },
        { token: auditor.token },
      );
      expect(log.result!.entries).toEqual([
        expect.objectContaining({
          operation: "subject_report",
          result: "denied",
          actor: expect.objectContaining({ uid: auditor.uid }),
        }),
      ]);
    });

    it("when the request is malformed, then invalid-argument names every offending field", async () => {
      const r = await report({
        user_id: "",
        values: { email: { nested: true } },
        event_types: ["Not An Event"],
        extra: 1,
      });
      expect(r.error?.status).toBe("INVALID_ARGUMENT");
      const paths = (r.error!.details!.issues as { path: string }[]).map((i) => i.path);
      expect(paths).toEqual(
        expect.arrayContaining(["user_id", "values.email", "event_types.0", "reason", "extra"]),
      );
    });
  },
);
