import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { composeServices } from "../../functions/app/compose";
import { MemoryState } from "../../functions/adapters/memory/memoryState";
import { isSaltServiceError } from "../../functions/domain/errors";
import type { ServiceConfig } from "../../functions/config/settings";
import { BATCH_MODES } from "../../functions/usecases/batchModes";
import { pseudonymizeBatch, type BatchRequest } from "../../functions/usecases/pseudonymizeBatch";
import { PIN_SETTLE_MS } from "../../functions/usecases/queryPin";
import type { Services } from "../../functions/usecases/deps";
import { eraseUser } from "../../functions/usecases/erase";
import { putScope, rotateScope } from "../../functions/usecases/scopes";
import { runtimeSecrets, testConfig } from "../support/runtimes";
import { ManualClock, TestSecret } from "../support/testDeps";

const INVOKER = "bq@p.iam.gserviceaccount.com";

function memoryRuntime(over: Partial<ServiceConfig> = {}): Services {
  return composeServices({
    config: testConfig({ backend: "memory", ...over }),
    clock: new ManualClock().now,
    secrets: runtimeSecrets({ key: randomBytes(32).toString("hex"), pepper: "p".repeat(40) }),
  });
}

/** The memory runtime with its clock (to rotate after a query's pin) and a pepper whose versions a test adds. */
function pinnedRuntime(): { rt: Services; clock: ManualClock; pepper: TestSecret } {
  const clock = new ManualClock();
  const pepper = new TestSecret("PSEUDONYM_PEPPER");
  const rt = composeServices({
    config: testConfig({ backend: "memory", cacheTtlSeconds: 0 }),
    clock: clock.now,
    secrets: { ...runtimeSecrets({ key: randomBytes(32).toString("hex") }), pepper },
  });
  return { rt, clock, pepper };
}

const rotation = (kind: string) => ({
  force: true,
  audit: { actor: { uid: "ops", via: "cli" as const }, operation: `rotate_${kind}`, correlation_id: "c" },
});
let rotations = 0;
const rotate = (rt: Services, kind: "user" | "global", id: string) =>
  rt.salts.rotate(kind, id, { rotationId: `r-${++rotations}`, ...rotation(kind) });

let jobs = 0;
const request = (calls: unknown[][], over: Partial<BatchRequest> = {}): BatchRequest => ({
  requestId: `req-${randomBytes(6).toString("hex")}`,
  caller: `//bigquery.googleapis.com/projects/p/jobs/p:US.job_${++jobs}`,
  sessionUser: "analyst@example.com",
  mode: "user",
  field: "value",
  scope: null,
  calls,
  ...over,
});

const ctxOf = (req: BatchRequest) => ({
  correlationId: "unit",
  actor: { uid: req.sessionUser ?? INVOKER, via: "bigquery" as const },
  invoker: INVOKER,
});

const batch = (rt: Services, req: BatchRequest) => pseudonymizeBatch(rt, ctxOf(req), req);

/** What the batch answers for one call: its reply, or the refusal's message. */
async function one(rt: Services, mode: string, call: unknown[], field = "value") {
  try {
    return { reply: (await batch(rt, request([call], { mode, field }))).replies[0] };
  } catch (e) {
    if (isSaltServiceError(e) && e.code === "invalid-argument") return { refused: e.message };
    throw e;
  }
}

/** What the library answers for the same input: the pseudonym, or that it refuses (invalid-argument). */
async function library(rt: Services, mode: string, call: unknown[], field = "value") {
  try {
    if (mode === "user") {
      const [userId, value] = call;
      if (userId === null) return { reply: null };
      const out = await rt.pseudonymizer.pseudonymizeUserData(userId as string, { [field]: value }, [field]);
      return { reply: out.data[field] ?? null };
    }
    const [eventType, value, userId] = call;
    const event = { event_type: eventType as string, user_id: userId, [field]: value };
    const out = await rt.pseudonymizer.pseudonymizeAnalyticsData(event, [field]);
    return { reply: out.data[field] ?? null };
  } catch (e) {
    if (isSaltServiceError(e) && e.code === "invalid-argument") return { refused: true };
    throw e;
  }
}

// Inputs a table can hold, and some it should not: every mode's answer must match the library's.
const IDS = [
  "alice",
  "bob/.x",
  "é",
  "e\u0301",
  "u".repeat(128),
  "u".repeat(129),
  "",
  "a\u0001b",
  "\ud800",
  null,
  7,
  true,
];
const VALUES = [
  "a@example.com",
  "",
  "9007199254740993",
  "日本語",
  "\ud800x",
  0,
  -0,
  1e21,
  1e-7,
  123,
  2 ** 53 + 2,
  true,
  false,
  null,
  {},
  [1],
];
const TYPES = ["page_view", "signup", "", "Bad Type", null];

describe("salts-pseudonymizeBatch on the memory backend: the same answers as the library", () => {
  it("when every user-mode input kind is sent one call at a time, then each reply (or refusal) is the library's", async () => {
    const rt = memoryRuntime();
    for (const id of IDS)
      for (const value of VALUES) {
        const got = await one(rt, "user", [id, value]);
        const want = await library(rt, "user", [id, value]);
        if ("refused" in want) expect(got, JSON.stringify([id, value])).toHaveProperty("refused");
        else expect(got, JSON.stringify([id, value])).toEqual({ reply: want.reply });
        if ("refused" in got) expect(got.refused).toMatch(/^calls\[0\]: /);
      }
  });

  it("when every event-mode input kind is sent, then each reply (or refusal) is the library's, bound to the subject", async () => {
    const rt = memoryRuntime();
    for (const type of TYPES)
      for (const value of VALUES.slice(0, 8))
        for (const id of [...IDS.slice(0, 4), "", null, 42, "\ud800"]) {
          const call = [type, value, id];
          const got = await one(rt, "event", call);
          const want = await library(rt, "event", call);
          if ("refused" in want) expect(got, JSON.stringify(call)).toHaveProperty("refused");
          else expect(got, JSON.stringify(call)).toEqual({ reply: want.reply });
        }
    // The field may be user_id itself: the value is then the subject, as in the library.
    const self = await one(rt, "event", ["signup", "carol", "ignored"], "user_id");
    expect(self).toEqual({
      reply: (await library(rt, "event", ["signup", "carol", "ignored"], "user_id")).reply,
    });
  });

  it("when one batch holds many users, fields and NULLs, then its replies are the library's, in order", async () => {
    const rt = memoryRuntime();
    const calls = Array.from({ length: 500 }, (_, i) => [
      i % 7 === 0 ? null : `user-${i % 50}`,
      i % 5 === 0 ? null : i % 3 === 0 ? i : `value-${i}`,
    ]);
    const out = await batch(rt, request(calls, { field: "email" }));
    expect(out.replies).toHaveLength(500);
    // Users whose every value is NULL need no salt (users 0, 5, ..., 45 here): 40 are loaded.
    expect(out.salts).toBe(40);
    expect(await rt.salts.count("user")).toBe(40);
    for (const [n, call] of calls.entries())
      expect(out.replies[n]).toEqual((await library(rt, "user", call, "email")).reply);
    expect(out.replies.filter((r) => r === null).length).toBe(
      calls.filter(([u, v]) => u === null || v === null).length,
    );
  });

  it("when an INT64 above 2^53 arrives as a string, then it is pseudonymized as that string (and a small one as a number)", async () => {
    const rt = memoryRuntime();
    const out = await batch(
      rt,
      request([
        ["alice", "9007199254740993"],
        ["alice", 42],
        ["alice", "42"],
      ]),
    );
    const lib = await rt.pseudonymizer.pseudonymizeUserData(
      "alice",
      { a: "9007199254740993", b: 42, c: "42" },
      ["a", "b", "c"],
    );
    expect(out.replies).toEqual([
      (await library(rt, "user", ["alice", "9007199254740993"])).reply,
      (await library(rt, "user", ["alice", 42])).reply,
      (await library(rt, "user", ["alice", "42"])).reply,
    ]);
    // Typed: the number 42 and the string "42" are different pseudonyms (docs/BIGQUERY.md: declare STRING).
    expect(out.replies[1]).not.toBe(out.replies[2]);
    expect(lib.data.a).toMatch(/^ps1\.u\.1\.1\./);
  });
});

describe("salts-pseudonymizeBatch refusals (HTTP 400 at the edge)", () => {
  it("when calls have the wrong arity or bad values, then the batch is refused naming each call, and nothing is created", async () => {
    const rt = memoryRuntime();
    const calls: unknown[][] = [
      ["ok", "v"],
      ["too", "many", "args"],
      ["x"],
      ["\ud800", "v"],
      ["y", { no: 1 }],
    ];
    const e = await batch(rt, request(calls)).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "invalid-argument" });
    const message = (e as Error).message;
    expect(message).toContain("calls[1]: expected 2 arguments (user_id, value), got 3");
    expect(message).toContain("calls[2]: expected 2 arguments (user_id, value), got 1");
    expect(message).toContain("calls[3]: user_id must be well-formed Unicode");
    expect(message).toContain("calls[4]: value must be a string");
    expect(await rt.salts.count("user")).toBe(0);
  });

  it("when more than five calls are refused, then five are named and the rest counted", async () => {
    const rt = memoryRuntime();
    const e = await batch(rt, request(Array.from({ length: 12 }, () => ["only-one"]))).catch(
      (x: unknown) => x,
    );
    expect((e as Error).message).toMatch(/calls\[4\]: .*; and 7 more calls$/);
    expect((e as Error).message).not.toContain("calls[5]");
  });

  it("when the mode is unknown, the field is event_type in event mode, or a scope is named, then the request is refused", async () => {
    const rt = memoryRuntime();
    await expect(batch(rt, request([["a", "b"]], { mode: "users" }))).rejects.toThrow(
      /userDefinedContext.mode: must be one of user, event, user_previous/,
    );
    await expect(
      batch(rt, request([["t", "b", null]], { mode: "event", field: "event_type" })),
    ).rejects.toThrow(/userDefinedContext.field: event_type selects the salt/);
    await expect(batch(rt, request([["a", "b"]], { scope: "partner" }))).rejects.toThrow(
      /userDefinedContext.scope: unknown scope "partner"/,
    );
    // A mode is one entry of the table: every name it lists is accepted, with its own arity.
    expect(Object.keys(BATCH_MODES).sort()).toEqual(["event", "user", "user_previous"]);
    for (const [mode, call] of [
      ["user", [null, "v"]],
      ["event", ["page_view", null, null]],
      ["user_previous", ["nobody", "v"]],
    ] as const)
      await expect(batch(rt, request([[...call]], { mode }))).resolves.toMatchObject({ replies: [null] });
  });
});

describe("salts-pseudonymizeBatch retries and audit", () => {
  it("when a query's batch is retried with its requestId after a rotation, then it gets its first replies without any being stored; the next query gets the new version", async () => {
    const { rt, clock } = pinnedRuntime();
    const req = request([
      ["alice", "a@example.com"],
      ["bob", "b@example.com"],
    ]);
    const first = await batch(rt, req);
    // The pin lies PIN_SETTLE_MS before the query's first batch (usecases/queryPin.ts).
    expect(first).toMatchObject({ replayed: false, asOf: new Date(clock.now().getTime() - PIN_SETTLE_MS) });
    clock.advance(60_000);
    await rotate(rt, "user", "alice");
    const retry = await batch(rt, { ...req });
    expect(retry).toMatchObject({ replayed: false, replies: first.replies });
    // Another batch of the same query: the same pseudonyms (one query never splits a subject in two).
    expect((await batch(rt, { ...req, requestId: "another" })).replies).toEqual(first.replies);
    // Nothing but the pin is kept: the request store holds no replies.
    const replyKey = createHash("sha256")
      .update(`salt-service/bigquery-reply/v1\0${INVOKER}\0${req.caller}\0${req.requestId}`)
      .digest("hex");
    expect(await rt.requests.get(replyKey)).toBeNull();
    // A query that starts more than PIN_SETTLE_MS after the rotation gets the new version.
    clock.advance(PIN_SETTLE_MS);
    const next = await batch(rt, { ...req, caller: "next-query" });
    expect(next.replies[0]).not.toBe(first.replies[0]);
    expect(next.replies[0]).toMatch(/^ps1\.u\.2\./);
    expect(next.replies[1]).toBe(first.replies[1]);
  });

  it("when a batch without a caller (a pipeline's) is retried after a rotation, then its kept replies answer; reused for other calls, it is refused", async () => {
    const { rt, clock } = pinnedRuntime();
    const req = request([["alice", "a"]], { caller: null });
    const first = await batch(rt, req);
    expect(first).toMatchObject({ replayed: false, asOf: null });
    clock.advance(60_000);
    await rotate(rt, "user", "alice");
    expect(await batch(rt, { ...req })).toMatchObject({ replayed: true, replies: first.replies });
    await expect(batch(rt, { ...req, calls: [["alice", "b"]] })).rejects.toThrow(
      /requestId: was already used, within the last 24 hours, for a different batch/,
    );
    const fresh = await batch(rt, { ...req, requestId: "another" });
    expect(fresh.replies[0]).toMatch(/^ps1\.u\.2\./);
  });

  it("when a query reuses a requestId for other calls, then those calls are answered (its replies depend on the calls and the pin only)", async () => {
    const rt = memoryRuntime();
    const req = request([["alice", "a"]]);
    await batch(rt, req);
    const other = await batch(rt, { ...req, calls: [["alice", "b"]] });
    expect(other.replies).toEqual([(await library(rt, "user", ["alice", "b"])).reply]);
  });

  it("when a job sends many batches for two session users, then the trail has one entry per (job, session user)", async () => {
    const rt = memoryRuntime();
    const caller = "//bigquery.googleapis.com/projects/p/jobs/p:US.bquxjob_audit";
    for (const sessionUser of ["ann@example.com", "ann@example.com", "ben@example.com", "ann@example.com"])
      await batch(rt, request([["u1", "v"]], { caller, sessionUser }));
    await batch(rt, request([["u1", "v"]], { caller, sessionUser: null }));
    const entries = (await rt.audit.listAudit({ limit: 50, operation: "pseudonymize_batch" })).items;
    expect(entries).toHaveLength(3);
    expect(entries.map((e) => e.actor.uid).sort()).toEqual(["ann@example.com", "ben@example.com", INVOKER]);
    for (const e of entries) {
      expect(e).toMatchObject({
        actor: { via: "bigquery" },
        target: { kind: "system", id: "bigquery" },
        result: "success",
        details: { caller, invoker: INVOKER, mode: "user", scope: null },
      });
    }
  });
});

describe("salts-pseudonymizeBatch: a query is answered as of its first batch", () => {
  const ops = { correlationId: "unit", actor: { uid: "ops", via: "cli" as const } };

  it("when the query itself creates a salt that then rotates, then its later batches keep the first version; a new query the new one", async () => {
    const { rt, clock } = pinnedRuntime();
    const caller = "query-created";
    const first = await batch(rt, request([["new-user", "v"]], { caller }));
    expect(first.replies[0]).toMatch(/^ps1\.u\.1\./);
    clock.advance(1000);
    await rotate(rt, "user", "new-user");
    clock.advance(1000);
    await rotate(rt, "user", "new-user");
    expect((await batch(rt, request([["new-user", "v"]], { caller }))).replies).toEqual(first.replies);
    clock.advance(PIN_SETTLE_MS);
    expect((await batch(rt, request([["new-user", "v"]]))).replies[0]).toMatch(/^ps1\.u\.3\./);
  });

  it("when a subject is created after the pin by another caller, then the query takes it as created, and keeps that version after a rotation", async () => {
    const { rt, clock } = pinnedRuntime();
    const caller = "query-late";
    await batch(rt, request([["someone", "v"]], { caller }));
    clock.advance(1000);
    const created = await rt.pseudonymizer.pseudonymizeUserData("late", { value: "v" }, ["value"]);
    clock.advance(1000);
    await rotate(rt, "user", "late");
    const later = await batch(rt, request([["late", "v"]], { caller }));
    expect(later.replies).toEqual([created.data.value]);
  });

  it("when a subject is erased during the query, then its later batches never give the erased salt's pseudonym", async () => {
    const { rt, clock } = pinnedRuntime();
    const caller = "query-erase";
    const first = await batch(rt, request([["gone", "v"]], { caller }));
    clock.advance(1000);
    await eraseUser(rt, ops, "gone", "GDPR");
    clock.advance(1000);
    const after = await batch(rt, request([["gone", "v"]], { caller }));
    expect(after.replies[0]).toMatch(/^ps1\.u\.1\./);
    expect(after.replies[0]).not.toBe(first.replies[0]);
    // The new salt is the subject's from now on, in this query and the next.
    expect((await batch(rt, request([["gone", "v"]]))).replies).toEqual(after.replies);
  });

  it("when an event type's salt rotates during the query, then event-mode batches keep the version of the first batch", async () => {
    const { rt, clock } = pinnedRuntime();
    const caller = "query-event";
    const calls = [
      ["page_view", "home", "alice"],
      ["page_view", "home", null],
    ];
    const first = await batch(rt, request(calls, { caller, mode: "event" }));
    clock.advance(1000);
    await rotate(rt, "global", "page_view");
    expect((await batch(rt, request(calls, { caller, mode: "event" }))).replies).toEqual(first.replies);
    clock.advance(PIN_SETTLE_MS);
    const next = await batch(rt, request(calls, { mode: "event" }));
    expect(next.replies.every((r) => /^ps1\.g\.2\./.test(r!))).toBe(true);
  });

  it("when the query's scope rotates during it, then its batches keep the scope version of the first; a new query gets the new one", async () => {
    const { rt, clock } = pinnedRuntime();
    await putScope(rt, ops, {
      scope_id: "partner",
      description: "a partner",
      rotation_days: 30,
      consumers: [INVOKER],
      reason: "test",
    });
    const caller = "query-scope";
    const first = await batch(rt, request([["alice", "v"]], { caller, scope: "partner" }));
    clock.advance(1000);
    await rotateScope(rt, ops, { scope_id: "partner", reason: "test" });
    expect((await batch(rt, request([["alice", "v"]], { caller, scope: "partner" }))).replies).toEqual(
      first.replies,
    );
    clock.advance(PIN_SETTLE_MS);
    const next = await batch(rt, request([["alice", "v"]], { scope: "partner" }));
    expect(next.replies[0]).not.toBe(first.replies[0]);
  });

  it("when the pepper rotates during the query, then it keeps the first batch's pepper version while that version can be read", async () => {
    const { rt, pepper } = pinnedRuntime();
    const caller = "query-pepper";
    const first = await batch(rt, request([["alice", "v"]], { caller }));
    expect(first.replies[0]).toMatch(/^ps1\.u\.1\.1\./);
    pepper.add();
    expect((await batch(rt, request([["alice", "v"]], { caller }))).replies).toEqual(first.replies);
    expect((await batch(rt, request([["alice", "v"]]))).replies[0]).toMatch(/^ps1\.u\.1\.2\./);
    // A disabled version cannot make pseudonyms any more: the query goes on under the current one.
    pepper.setEnabled(1, false);
    expect((await batch(rt, request([["alice", "v"]], { caller }))).replies[0]).toMatch(/^ps1\.u\.1\.2\./);
  });

  it("when a database writer forges, edits or copies a query's pin, then it is not the service's: the reader takes it as a pin made now, as for a new query", async () => {
    const { rt, clock } = pinnedRuntime();
    const pinKey = (caller: string) =>
      createHash("sha256").update(`salt-service/bigquery-pin/v1\0${INVOKER}\0${caller}`).digest("hex");
    const first = await batch(rt, request([["alice", "v"]], { caller: "query-a" }));
    expect(first.replies[0]).toMatch(/^ps1\.u\.1\.1\./);
    const genuine = (await rt.requests.get(pinKey("query-a")))!.answer as Record<string, unknown>;
    expect(genuine).toMatchObject({ mac: expect.stringMatching(/^[0-9a-f]{64}$/), audit_key_version: 1 });
    clock.advance(60_000);
    await rotate(rt, "user", "alice");
    clock.advance(PIN_SETTLE_MS + 1000);
    const reader = () => ({ ...rt, requests: Object.create(rt.requests) as Services["requests"] });
    const forge = async (caller: string, record: Record<string, unknown>) => {
      await rt.requests.release(pinKey(caller));
      await rt.requests.keep(pinKey(caller), "salt-service/bigquery-pin/v1", record);
    };
    // Moved back (its MAC no longer matches), and under a pepper version that does not exist.
    await forge("query-a", { ...genuine, as_of: new Date(0).toISOString(), pepper_version: 99 });
    const moved = await batch(reader(), request([["alice", "v"]], { caller: "query-a" }));
    expect(moved.asOf).toEqual(new Date(clock.now().getTime() - PIN_SETTLE_MS));
    expect(moved.replies[0]).toMatch(/^ps1\.u\.2\.1\./);
    // A genuine pin copied to another query's key does not verify there either.
    await forge("query-b", genuine);
    const copied = await batch(reader(), request([["alice", "v"]], { caller: "query-b" }));
    expect(copied.asOf).toEqual(new Date(clock.now().getTime() - PIN_SETTLE_MS));
    expect(copied.replies).toEqual(moved.replies);
    // The genuine pin, put back, is taken as it is: the query's first version.
    await forge("query-a", genuine);
    expect((await batch(reader(), request([["alice", "v"]], { caller: "query-a" }))).replies).toEqual(
      first.replies,
    );
  });

  it("when another instance serves the query's later batches, then it reads the same pin and gives the same replies", async () => {
    const { rt, clock } = pinnedRuntime();
    const caller = "query-two-instances";
    const first = await batch(rt, request([["alice", "v"]], { caller }));
    clock.advance(1000);
    await rotate(rt, "user", "alice");
    // A second instance over the same storage: its own caches and pins, the same stores.
    const other = { ...rt, requests: Object.create(rt.requests) as Services["requests"] };
    expect((await batch(other, request([["alice", "v"]], { caller }))).replies).toEqual(first.replies);
  });
});

describe("salts-pseudonymizeBatch: a query's batches on two instances over the same storage", () => {
  // Two instances as deployed: each its own caches (salts for SALT_CACHE_TTL_SECONDS), one storage.
  const ops = { correlationId: "unit", actor: { uid: "ops", via: "cli" as const } };
  const key = randomBytes(32).toString("hex");
  const instance = (state: MemoryState, clock: ManualClock, pepper: TestSecret) =>
    composeServices({
      config: testConfig({ backend: "memory", cacheTtlSeconds: 60 }),
      clock: clock.now,
      memoryState: state,
      secrets: { ...runtimeSecrets({ key }), pepper },
    });
  const pair = () => {
    const state = new MemoryState();
    const clock = new ManualClock();
    const bytes = randomBytes(32);
    return {
      clock,
      x: instance(state, clock, new TestSecret("PSEUDONYM_PEPPER", bytes)),
      y: instance(state, clock, new TestSecret("PSEUDONYM_PEPPER", bytes)),
    };
  };

  it("when one instance still caches a salt another rotated just before the query began, then both answer the query under one version, and the next query under the rotated one", async () => {
    const { clock, x, y } = pair();
    await x.pseudonymizer.pseudonymizeUserData("alice", { value: "v" }, ["value"]);
    clock.advance(10_000);
    await rotate(y, "user", "alice");
    clock.advance(10_000);
    // The rotation came less than PIN_SETTLE_MS before the query: it takes effect from the next query.
    const req = request([["alice", "v"]], { caller: "query-stale" });
    const first = await batch(x, req);
    expect(first.replies[0]).toMatch(/^ps1\.u\.1\./);
    expect((await batch(y, req)).replies).toEqual(first.replies);
    clock.advance(PIN_SETTLE_MS);
    expect((await batch(x, req)).replies).toEqual(first.replies);
    const next = request([["alice", "v"]], { caller: "query-stale-next" });
    const second = await batch(y, next);
    expect(second.replies[0]).toMatch(/^ps1\.u\.2\./);
    expect((await batch(x, next)).replies).toEqual(second.replies);
  });

  it("when a rotation stamped just before the pin commits after the query's first read (a slow commit, a clock behind), then every batch of the query still gives one version", async () => {
    const state = new MemoryState();
    const [cx, cy] = [new ManualClock(), new ManualClock()];
    cy.advance(-200); // Y's clock 200 ms behind X's
    const both = (ms: number) => (cx.advance(ms), cy.advance(ms));
    const bytes = randomBytes(32);
    const x = instance(state, cx, new TestSecret("PSEUDONYM_PEPPER", bytes));
    const y = instance(state, cy, new TestSecret("PSEUDONYM_PEPPER", bytes));
    await y.pseudonymizer.pseudonymizeUserData("alice", { value: "v" }, ["value"]);
    both(120_000);
    const req = request([["alice", "v"]], { caller: "query-late-commit" });
    const first = await batch(x, req);
    both(100);
    await rotate(y, "user", "alice"); // stamped 100 ms before X's clock read the pin's time
    both(1000);
    expect((await batch(y, request([["alice", "v"]], { caller: "query-late-commit" }))).replies).toEqual(
      first.replies,
    );
    both(80_000);
    expect((await batch(x, req)).replies).toEqual(first.replies);
  });

  it("when the pepper rotated and an instance that has the new version pins the query, then an instance still on the old one answers under the pin's version", async () => {
    const state = new MemoryState();
    const clock = new ManualClock();
    const [b1, b2] = [randomBytes(32), randomBytes(32)];
    const warm = new TestSecret("PSEUDONYM_PEPPER", b1);
    warm.add(b2);
    warm.currentVersion = 1; // resolved before the rotation, kept by the instance
    const fresh = new TestSecret("PSEUDONYM_PEPPER", b1);
    fresh.add(b2);
    const req = request([["alice", "v"]], { caller: "query-pepper-fleet" });
    const first = await batch(instance(state, clock, fresh), req);
    expect(first.replies[0]).toMatch(/^ps1\.u\.1\.2\./);
    const dbg = await batch(instance(state, clock, warm), req);
    expect(dbg.replies).toEqual(first.replies);
  });

  it("when a subject is erased and made again during the query, then no instance answers under a version of the erased salt", async () => {
    const { clock, x, y } = pair();
    const caller = "query-erase-again";
    await y.pseudonymizer.pseudonymizeUserData("alice", { value: "v" }, ["value"]);
    clock.advance(10_000);
    await batch(x, request([["bob", "v"]], { caller }));
    clock.advance(1000);
    await rotate(y, "user", "alice");
    clock.advance(80_000);
    // X caches alice's current salt (version 2), after the pin settled...
    await x.pseudonymizer.pseudonymizeUserData("alice", { value: "v" }, ["value"]);
    clock.advance(40_000);
    // ...then answers her under version 1 (the query began before the rotation), reading that version.
    const before = await batch(x, request([["alice", "v"]], { caller }));
    expect(before.replies[0]).toMatch(/^ps1\.u\.1\./);
    clock.advance(1000);
    await eraseUser(y, ops, "alice", "GDPR");
    clock.advance(1000);
    const again = await batch(y, request([["alice", "v"]], { caller }));
    expect(again.replies[0]).not.toBe(before.replies[0]);
    clock.advance(1000);
    await rotate(y, "user", "alice");
    clock.advance(18_000);
    // X's entry for the current salt has expired, not its cached version 1, which is the erased salt's.
    const onX = await batch(x, request([["alice", "v"]], { caller }));
    expect(onX.replies[0]).not.toBe(before.replies[0]);
    expect(onX.replies).toEqual((await batch(y, request([["alice", "v"]], { caller }))).replies);
  });
});
