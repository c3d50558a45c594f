import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeServices } from "../../functions/app/compose";
import { encodeDocId } from "../../functions/domain/ids";
import {
  keyIdOf,
  openSalt,
  parseEncryptionKey,
  saltAad,
  shredAad,
  type EncryptedSalt,
} from "../../functions/domain/encryption";
import { saltPlace } from "../../functions/domain/rotation";
import type { Services } from "../../functions/usecases/deps";
import { unsignedIdToken } from "../../scripts/stack-client.mjs";
import { adminFirestore, PROJECT_ID } from "../support/firestore";
import { testConfig } from "../support/runtimes";
import {
  call,
  createUser,
  emulatorLog,
  functionsHost,
  localSecrets,
  secretForms,
  type TestUser,
} from "../support/stack";

const INVOKER = "bigquery-demo@demo-salts.iam.gserviceaccount.com";
const url = () => `http://${functionsHost()}/${PROJECT_ID}/us-central1/salts-pseudonymizeBatch`;
const token = (email = INVOKER) => unsignedIdToken(email, url());
const run = randomBytes(4).toString("hex");
const db = () => adminFirestore();

interface Answer {
  status: number;
  headers: Headers;
  body: { replies?: (string | null)[]; errorMessage?: string };
  raw: string;
}
// Every answer of this file, searched for secrets at the end.
const answers: string[] = [];

async function post(
  body: unknown,
  opts: { token?: string | null; correlationId?: string; contentType?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": opts.contentType ?? "application/json" };
  const bearer = opts.token === undefined ? token() : opts.token;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (opts.correlationId) headers["x-correlation-id"] = opts.correlationId;
  const res = await fetch(url(), {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const raw = await res.text();
  answers.push(raw);
  // Only a body the Functions framework itself refused (not JSON under a JSON content type) is not JSON.
  const parsed = res.headers.get("content-type")?.includes("json") ? (JSON.parse(raw) as Answer["body"]) : {};
  return { status: res.status, headers: res.headers, body: parsed, raw };
}

/** A BigQuery request body, as BigQuery writes it. */
function bq(calls: unknown[][], over: Record<string, unknown> = {}) {
  return {
    requestId: `req-${randomBytes(6).toString("hex")}`,
    caller: `//bigquery.googleapis.com/projects/${PROJECT_ID}/jobs/${PROJECT_ID}:US.bquxjob_${run}_${randomBytes(4).toString("hex")}`,
    sessionUser: "analyst@example.com",
    userDefinedContext: { mode: "user" },
    calls,
    ...over,
  };
}

/** The library, in this process, with the secrets the functions read (the local Secret Manager) and the same Firestore. */
let library: Services;
/** The same through the functions: salts-pseudonymizeTest, which the contract names as the reference. */
let admin: TestUser;
let auditor: TestUser;

beforeAll(async () => {
  // Under load the functions emulator takes long to start a function's worker: start the two used here first.
  await Promise.all([post({ requestId: "warm-up", calls: [] }), call("pseudonymizeTest", {}, {})]);
  library = composeServices({
    config: testConfig({
      projectId: PROJECT_ID,
      secretManagerHost: process.env.SECRET_MANAGER_EMULATOR_HOST!,
    }),
  });
  [admin, auditor] = await Promise.all([
    createUser({ admin: true }, "bq-admin"),
    createUser({ auditor: true }, "bq-aud"),
  ]);
});

const userPseudonym = async (userId: string, value: unknown, field = "value") =>
  (await library.pseudonymizer.pseudonymizeUserData(userId, { [field]: value }, [field])).data[field];
const eventPseudonym = async (type: string, value: unknown, userId: unknown, field = "value") =>
  (
    await library.pseudonymizer.pseudonymizeAnalyticsData(
      { event_type: type, user_id: userId, [field]: value },
      [field],
    )
  ).data[field];

/** The log line of one request (sent with its own correlation id). */
function logLineOf(correlationId: string): Record<string, unknown> {
  const line = emulatorLog()
    .split("\n")
    .find((l) => l.includes('"bigquery batch"') && l.includes(correlationId));
  if (!line) throw new Error(`no "bigquery batch" log line for ${correlationId}`);
  return JSON.parse(line.slice(line.indexOf("{"))) as Record<string, unknown>;
}

describe("salts-pseudonymizeBatch over HTTP (functions emulator): BigQuery's protocol", () => {
  it("when a user-mode batch holds NULLs and an INT64 above 2^53 sent as a string, then replies are the library's and pseudonymizeTest's", async () => {
    const alice = `alice-${run}`;
    const calls = [
      [alice, "alice@example.com"],
      [alice, null],
      [null, "x"],
      [alice, "9007199254740993"],
      [alice, 42],
      [alice, true],
    ];
    const res = await post(bq(calls, { userDefinedContext: { mode: "user", field: "email" } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(res.body.replies).toEqual([
      await userPseudonym(alice, "alice@example.com", "email"),
      null,
      null,
      await userPseudonym(alice, "9007199254740993", "email"),
      await userPseudonym(alice, 42, "email"),
      await userPseudonym(alice, true, "email"),
    ]);
    const test = await call<{ pseudonymized: Record<string, string> }>(
      "pseudonymizeTest",
      { user_id: alice, data: { email: "alice@example.com" }, fields: ["email"] },
      { token: admin.token },
    );
    expect(test.result?.pseudonymized.email).toBe(res.body.replies![0]);
  });

  it("when an event-mode batch is posted, then replies are bound to each row's user as the library binds them", async () => {
    const bob = `bob-${run}`;
    const calls = [
      ["page_view", "device-1", bob],
      ["page_view", "device-1", null],
      ["signup", "device-1", bob],
      ["signup", null, bob],
    ];
    const res = await post(bq(calls, { userDefinedContext: { mode: "event", field: "device_id" } }));
    expect(res.status).toBe(200);
    expect(res.body.replies).toEqual([
      await eventPseudonym("page_view", "device-1", bob, "device_id"),
      await eventPseudonym("page_view", "device-1", null, "device_id"),
      await eventPseudonym("signup", "device-1", bob, "device_id"),
      null,
    ]);
    expect(new Set(res.body.replies!.slice(0, 3)).size).toBe(3);
    const test = await call<{ pseudonymized: Record<string, string> }>(
      "pseudonymizeTest",
      { user_id: bob, event_type: "signup", data: { device_id: "device-1" }, fields: ["device_id"] },
      { token: admin.token },
    );
    expect(test.result?.pseudonymized.device_id).toBe(res.body.replies![2]);
  });

  it("when a 1,000-row batch of new users is posted, then every reply is the library's and storage is asked in batches", async () => {
    const calls = Array.from({ length: 1000 }, (_, i) => [`new-${run}-${i}`, `value-${i}`]);
    const correlationId = `bq-1000-${run}`;
    const body = bq(calls);
    const res = await post(body, { correlationId });
    expect(res.status).toBe(200);
    expect(res.body.replies).toHaveLength(1000);
    for (let i = 0; i < 1000; i += 97)
      expect(res.body.replies![i]).toBe(await userPseudonym(calls[i]![0]!, calls[i]![1]));
    const users = await db().getAll(
      ...calls.map(([id]) => db().collection("salts_user").doc(encodeDocId(id!))),
    );
    expect(users.every((s) => s.exists)).toBe(true);
    // One batched read of the 1,000 salts (with their places' erasure records), four commits creating them,
    // sent together (each salt is its document and its salt.created event in the outbox: 500 writes per
    // commit); the query's first batch adds its pin (one create) and the audit marker's read and
    // transaction, beside the read. Two round trips one after the other: the read, the creates.
    const line = logLineOf(correlationId);
    expect(line).toMatchObject({ status: 200, rows: 1000, salts: 1000, replayed: false });
    expect(line.as_of).toEqual(expect.any(String));
    expect(line.storage_commits).toBe(6);
    expect(line.storage_reads).toBe(4);
    // The next batch of the same query, over the same users: pin and audit marker are known to the
    // instance, the salts were read after the pin was made, and the replies are not stored (a retry
    // computes them again): storage is not asked.
    const next = await post(
      { ...body, requestId: `${body.requestId}-next` },
      { correlationId: `${correlationId}-b` },
    );
    expect(next.status).toBe(200);
    expect(next.body.replies).toEqual(res.body.replies);
    expect(logLineOf(`${correlationId}-b`)).toMatchObject({
      storage_reads: 0,
      storage_commits: 0,
      as_of: line.as_of,
    });
  });
});

describe("salts-pseudonymizeBatch refusals: 400 naming the call, 401, 403", () => {
  it("when a call has the wrong arity, then 400 naming its index, nothing created, and no 500 for any bad input", async () => {
    const fresh = `arity-${run}`;
    const res = await post(
      bq([
        [fresh, "v"],
        [fresh, "v"],
        [fresh, "v", "extra"],
      ]),
    );
    expect(res.status).toBe(400);
    expect(res.body.errorMessage).toMatch(
      /^calls\[2\]: expected 2 arguments \(user_id, value\), got 3 \[correlation_id /,
    );
    expect((await db().collection("salts_user").doc(encodeDocId(fresh)).get()).exists).toBe(false);
    // Not JSON: under a JSON content type the Functions framework refuses it before the function runs (400);
    // under another, the function does, in the protocol's shape.
    expect((await post("not json")).status).toBe(400);
    const text = await post("not json", { contentType: "text/plain" });
    expect(text.status).toBe(400);
    expect(text.body.errorMessage).toMatch(/^\(body\): the body is not JSON/);
    const bad: unknown[] = [
      { calls: [] },
      bq([["a", "b"]], { userDefinedContext: { mode: "users" } }),
      bq([["a", "b"]], { userDefinedContext: { mode: "user", colour: "red" } }),
      bq([["\ud800", "b"]]),
      bq([["a", { object: true }]]),
      bq([[7, "b"]]),
      bq([["x".repeat(129), "b"]]),
      bq([["Bad Type", "v", null]], { userDefinedContext: { mode: "event" } }),
      bq(Array.from({ length: 10_001 }, () => ["a", "b"])),
    ];
    for (const body of bad) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.errorMessage!.length).toBeLessThanOrEqual(1000);
    }
  });

  it("when the mode is unknown, then 400 naming userDefinedContext.mode", async () => {
    const res = await post(bq([["a", "b"]], { userDefinedContext: { mode: "previous" } }));
    expect(res.status).toBe(400);
    expect(res.body.errorMessage).toMatch(
      /^userDefinedContext\.mode: must be one of user, event, user_previous/,
    );
  });

  it("when the caller is not among BIGQUERY_INVOKERS, then 403 and the refusal is audited; without a token 401", async () => {
    const stranger = `stranger-${run}@other.iam.gserviceaccount.com`;
    const denied = await post(bq([["a", "b"]]), { token: token(stranger) });
    expect(denied.status).toBe(403);
    expect(denied.body.errorMessage).toContain(`${stranger} is not among BIGQUERY_INVOKERS`);
    const anonymous = await post(bq([["a", "b"]]), { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer /);
    const log = await call<{ entries: { actor: { uid: string; via: string }; result: string }[] }>(
      "auditLog",
      { operation: "pseudonymize_batch", result: "denied", limit: 50 },
      { token: auditor.token },
    );
    expect(log.result?.entries.find((e) => e.actor.uid === stranger)).toMatchObject({
      actor: { via: "bigquery" },
      result: "denied",
    });
  });
});

describe("salts-pseudonymizeBatch retries and audit", () => {
  it("when a batch is retried with its requestId after a rotation, then it gets the same replies; a new request the new ones", async () => {
    const carol = `carol-${run}`;
    const body = bq([[carol, "c@example.com"]]);
    const first = await post(body);
    const rotated = await call("rotateUser", { user_id: carol, reason: "test" }, { token: admin.token });
    expect(rotated.result).toBeDefined();
    // Under the rotated salt the value has another pseudonym now (read fresh, in this process)...
    const now = await userPseudonym(carol, "c@example.com");
    expect(now).toMatch(/^ps1\.u\.2\./);
    expect(now).not.toBe(first.body.replies![0]);
    // ...but the retried batch gets what it got the first time.
    const retry = await post(body);
    expect(retry.status).toBe(200);
    expect(retry.body.replies).toEqual(first.body.replies);
    // A requestId reused for other calls within the query is answered, as of the query's first batch.
    const reused = await post({ ...body, calls: [[carol, "other@example.com"]] });
    expect(reused.status).toBe(200);
    expect(reused.body.replies![0]).toMatch(/^ps1\.u\.1\./);
    expect(reused.body.replies![0]).not.toBe(first.body.replies![0]);
  });

  it("when a salt rotates while a query runs, then the query's later batches, read fresh from Firestore, keep the version of its first batch", async () => {
    const dave = `dave-${run}`;
    // Dave's salt is made in this process: no function instance has it cached, so the function reads it
    // from Firestore after the rotation (version 2) and must find version 1 among the retained versions.
    const before = await userPseudonym(dave, "d@example.com");
    const caller = `//bigquery.googleapis.com/projects/${PROJECT_ID}/jobs/${PROJECT_ID}:US.bquxjob_pin_${run}`;
    const first = await post(bq([[`someone-${run}`, "x"]], { caller }), { correlationId: `bq-pin-${run}` });
    expect(first.status).toBe(200);
    const rotated = await call("rotateUser", { user_id: dave, reason: "test" }, { token: admin.token });
    expect(rotated.result).toBeDefined();
    library.cache.invalidate("user", dave);
    const now = await userPseudonym(dave, "d@example.com");
    expect(now).toMatch(/^ps1\.u\.2\./);
    const correlationId = `bq-pinned-${run}`;
    const later = await post(bq([[dave, "d@example.com"]], { caller }), { correlationId });
    expect(later.status).toBe(200);
    expect(later.body.replies).toEqual([before]);
    expect(logLineOf(correlationId).as_of).toEqual(logLineOf(`bq-pin-${run}`).as_of);
    // A query that starts now still answers version 1: a rotation takes effect for queries that start
    // more than PIN_SETTLE_MS (75 s) after it (the unit tests move a clock past that).
    const nextQuery = await post(bq([[dave, "d@example.com"]]));
    expect(nextQuery.body.replies).toEqual([before]);
  });

  it("when a batch without a caller (a pipeline's) is retried after a rotation, then its kept replies answer; reused for other calls, it is refused", async () => {
    const dana = `dana-${run}`;
    const body = bq([[dana, "d@example.com"]], { caller: undefined });
    const first = await post(body);
    expect(first.status).toBe(200);
    const rotated = await call("rotateUser", { user_id: dana, reason: "test" }, { token: admin.token });
    expect(rotated.result).toBeDefined();
    const retry = await post(body);
    expect(retry.body.replies).toEqual(first.body.replies);
    const reused = await post({ ...body, calls: [[dana, "other@example.com"]] });
    expect(reused.status).toBe(400);
    expect(reused.body.errorMessage).toMatch(/^requestId: was already used/);
  });

  it(
    "when a job sends many batches for two session users, then the trail holds one entry per (job, session user)",
    { timeout: 240_000 },
    async () => {
      const caller = `//bigquery.googleapis.com/projects/${PROJECT_ID}/jobs/${PROJECT_ID}:US.bquxjob_audit_${run}`;
      const sends = [
        "ann@example.com",
        "ann@example.com",
        "ben@example.com",
        "ann@example.com",
        "ben@example.com",
      ];
      await Promise.all(
        sends.map((sessionUser, i) => post(bq([[`aud-${run}-${i}`, "v"]], { caller, sessionUser }))),
      );
      const log = await call<{ entries: { actor: { uid: string }; details: Record<string, unknown> }[] }>(
        "auditLog",
        { operation: "pseudonymize_batch", result: "success", limit: 100 },
        { token: auditor.token },
      );
      const mine = log.result!.entries.filter((e) => e.details.caller === caller);
      expect(mine.map((e) => e.actor.uid).sort()).toEqual(["ann@example.com", "ben@example.com"]);
      expect(mine[0]!.details).toEqual({ caller, invoker: INVOKER, mode: "user", scope: null });
      const verify = await call<{ intact: boolean }>(
        "auditVerify",
        { target_id: "bigquery" },
        { token: auditor.token },
      );
      expect(verify.result?.intact).toBe(true);
    },
  );
});

describe("salts-pseudonymizeBatch when Firestore is cut off from the functions (runs last)", () => {
  const proxy = () => {
    const control = process.env.FUNCTIONS_FIRESTORE_PROXY;
    if (!control)
      throw new Error("FUNCTIONS_FIRESTORE_PROXY is not set: run through with-emulators.mjs --test-hooks");
    return control;
  };
  const cut = () => fetch(`${proxy()}/cut`, { method: "POST" });
  const restore = () => fetch(`${proxy()}/restore`, { method: "POST" });
  /** As BigQuery does: retry a 503 until it is answered otherwise (bounded). */
  async function untilAnswered(body: unknown): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      const res = await post(body);
      if (res.status !== 503 || attempt >= 20) return res;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  afterAll(() => restore());

  it(
    "when Firestore is unreachable, then 503 and nothing is written; once it is back, the retry answers what the library answers",
    { timeout: 300_000 },
    async () => {
      const calls = Array.from({ length: 50 }, (_, i) => [`frozen-${run}-${i}`, `v-${i}`]);
      const body = bq(calls, { caller: `job-frozen-${run}` });
      await cut();
      const during = await post(body);
      await restore();
      expect(during.status).toBe(503);
      expect(during.body.errorMessage).toMatch(/unavailable|did not answer|unreachable/i);
      const written = await db().getAll(
        ...calls.map(([id]) => db().collection("salts_user").doc(encodeDocId(id!))),
      );
      expect(written.filter((s) => s.exists)).toHaveLength(0);
      const after = await untilAnswered(body);
      expect(after.status).toBe(200);
      for (const [n, [id, v]] of calls.entries())
        expect(after.body.replies![n]).toBe(await userPseudonym(id!, v));
    },
  );

  it(
    "when Firestore is cut while a batch of new users is being written, then every salt is whole, and kept replies only ever match the salts",
    { timeout: 300_000 },
    async () => {
      const calls = Array.from({ length: 1000 }, (_, i) => [`midcut-${run}-${i}`, `v-${i}`]);
      const body = bq(calls, { caller: `job-midcut-${run}` });
      const pending = post(body);
      await new Promise((r) => setTimeout(r, 150));
      await cut();
      const during = await pending;
      await restore();
      expect([200, 503]).toContain(during.status);
      const after = await untilAnswered(body);
      expect(after.status).toBe(200);
      // Whatever was cut, the answer is the library's for the salts that exist now: none is half-written.
      for (let i = 0; i < 1000; i += 37)
        expect(after.body.replies![i]).toBe(await userPseudonym(calls[i]![0]!, calls[i]![1]));
      if (during.status === 200) expect(during.body.replies).toEqual(after.body.replies);
    },
  );

  it("when every answer, log line and stored audit entry of this file is searched, then no secret, salt or token appears", async () => {
    const secrets = localSecrets();
    const needles = new Map<string, string>();
    for (const name of ["PSEUDONYM_PEPPER", "SALT_ENCRYPTION_KEY", "AUDIT_KEY"])
      for (const form of secretForms(secrets[name]!)) needles.set(form, name);
    const key = { version: 1, bytes: parseEncryptionKey(secrets.SALT_ENCRYPTION_KEY) };
    const mine = (await db().collection("salts_user").get()).docs.filter(
      (d) => String(d.get("id")).includes(run) && d.get("salt.key_id") === keyIdOf(key.bytes),
    );
    expect(mine.length).toBeGreaterThan(1000);
    for (const d of mine.slice(0, 200)) {
      const id = d.get("id") as string;
      const enc = (e: EncryptedSalt) => ({
        ...e,
        iv: Buffer.from(e.iv),
        ct: Buffer.from(e.ct),
        tag: Buffer.from(e.tag),
      });
      const place = saltPlace("user", id, (d.get("chain") as { id: string }).id);
      const salt = openSalt(key, enc(d.get("salt")), saltAad(place, d.get("version") as number));
      const shred = openSalt(key, enc(d.get("shred")), shredAad(place));
      for (const b of [salt, shred])
        for (const f of [b.toString("hex"), b.toString("base64"), b.toString("base64url")])
          needles.set(f, "a salt");
    }
    // The demo token is not a secret, but no token belongs in a log line either.
    needles.set(token().split(".")[1]!, "an ID token");
    const audit = (
      await db().collection("salts_audit").where("operation", "==", "pseudonymize_batch").get()
    ).docs.map((d) => JSON.stringify(d.data()));
    const logs = emulatorLog();
    expect(logs).toContain('"bigquery batch"');
    const hash = (s: string) => createHash("sha256").update(s).digest("hex");
    for (const [where, text] of [
      ["answers", answers.join("\n")],
      ["function logs", logs],
      ["audit entries", audit.join("\n")],
    ] as const)
      for (const [needle, what] of needles)
        expect(text.includes(needle), `${what} (${hash(needle).slice(0, 8)}) in ${where}`).toBe(false);
  });
});
