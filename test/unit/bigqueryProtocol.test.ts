import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { OAuth2Client } from "google-auth-library";
import { describe, expect, it } from "vitest";
import { GoogleIdTokens } from "../../functions/adapters/googleIdTokens";
import { composeServices } from "../../functions/app/compose";
import { MAX_BATCH_CALLS } from "../../functions/domain/bigquery";
import { SaltServiceError } from "../../functions/domain/errors";
import { errorAnswer, parseBatchRequest } from "../../functions/edge/remoteProtocol";
import { serveBatch } from "../../functions/edge/remoteFunction";
import { unsignedIdToken } from "../../scripts/stack-client.mjs";
import { runtimeSecrets, testConfig } from "../support/runtimes";

const AUDIENCE = "https://us-central1-demo-salts.cloudfunctions.net/salts-pseudonymizeBatch";
const INVOKER = "bigquery-demo@demo-salts.iam.gserviceaccount.com";

/** Google's signing keys, as google-auth-library fetches them, held here instead (no network in tests). */
class LocalCerts extends OAuth2Client {
  fetches = 0;
  constructor(
    private readonly certs: Record<string, string>,
    private readonly down = false,
  ) {
    super();
  }
  override async getFederatedSignonCertsAsync() {
    this.fetches++;
    if (this.down)
      throw Object.assign(new Error("getaddrinfo ENOTFOUND www.googleapis.com"), { code: "ENOTFOUND" });
    return { certs: this.certs, format: "PEM" } as Awaited<
      ReturnType<OAuth2Client["getFederatedSignonCertsAsync"]>
    >;
  }
}

const googleKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
const certs = { "google-1": googleKey.publicKey.export({ type: "spki", format: "pem" }).toString() };

function signed(
  claims: Record<string, unknown>,
  opts: { kid?: string; key?: typeof googleKey; alg?: string } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = part({ alg: opts.alg ?? "RS256", kid: opts.kid ?? "google-1", typ: "JWT" });
  const body = part({
    iss: "https://accounts.google.com",
    aud: AUDIENCE,
    sub: "1234567890",
    email: INVOKER,
    email_verified: true,
    iat: now - 10,
    exp: now + 3600,
    ...claims,
  });
  const sig = sign("RSA-SHA256", Buffer.from(`${head}.${body}`), (opts.key ?? googleKey).privateKey);
  return `${head}.${body}.${sig.toString("base64url")}`;
}

describe("ID tokens of callers of salts-pseudonymizeBatch (google-auth-library, local signing keys)", () => {
  it("when a Google-signed token for the function's URL is presented, then its email is the caller", async () => {
    const client = new LocalCerts(certs);
    const ids = new GoogleIdTokens({ acceptUnsigned: false }, client);
    await expect(
      ids.emailOf(signed({ email: "BigQuery-Demo@demo-salts.iam.gserviceaccount.com" }), AUDIENCE),
    ).resolves.toBe(INVOKER);
  });

  it("when a production configuration gets an unsigned token (alg none), then it is refused without fetching keys", async () => {
    const client = new LocalCerts(certs);
    const ids = new GoogleIdTokens({ acceptUnsigned: false }, client);
    await expect(ids.emailOf(unsignedIdToken(INVOKER, AUDIENCE), AUDIENCE)).rejects.toMatchObject({
      code: "unauthenticated",
      message: expect.stringMatching(/unsigned tokens are accepted only under the Functions emulator/),
    });
    expect(client.fetches).toBe(0);
  });

  it("when the emulator configuration gets an unsigned token, then its email is read", async () => {
    const ids = new GoogleIdTokens({ acceptUnsigned: true }, new LocalCerts(certs));
    await expect(ids.emailOf(unsignedIdToken(INVOKER, AUDIENCE), AUDIENCE)).resolves.toBe(INVOKER);
  });

  it("when a token is for another audience, expired, signed by another key, unverified or not RS256, then it is refused, and the message quotes no part of it", async () => {
    const ids = new GoogleIdTokens({ acceptUnsigned: true }, new LocalCerts(certs));
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, RegExp][] = [
      [signed({ aud: "https://elsewhere.example/fn" }), /not minted for this function's URL/],
      [signed({ iat: now - 7200, exp: now - 3600 }), /expired/],
      [signed({}, { key: otherKey }), /signature does not verify/],
      [signed({}, { kid: "unknown" }), /signature does not verify/],
      [signed({ email_verified: false }), /email is not verified/],
      [signed({}, { alg: "HS256" }), /not signed with RS256/],
      ["not-a-token", /not a JWT/],
    ];
    for (const [token, why] of cases) {
      const e = await ids.emailOf(token, AUDIENCE).catch((x: unknown) => x);
      expect(e, why.source).toMatchObject({ code: "unauthenticated" });
      expect((e as Error).message).toMatch(why);
      for (const part of token.split(".").filter((p) => p.length > 8))
        expect((e as Error).message).not.toContain(part);
    }
  });

  it("when Google's keys cannot be fetched, then the call is unavailable (a retry can succeed), not unauthenticated", async () => {
    const ids = new GoogleIdTokens({ acceptUnsigned: false }, new LocalCerts(certs, true));
    await expect(ids.emailOf(signed({}), AUDIENCE)).rejects.toMatchObject({ code: "unavailable" });
  });
});

describe("BigQuery's protocol: requests and answers", () => {
  it("when a request is BigQuery's, then its fields are read, absent context defaults to mode user and field value", () => {
    const parsed = parseBatchRequest({
      requestId: "124ab1c",
      caller: "//bigquery.googleapis.com/projects/p/jobs/p:US.bquxjob_5b4c112c_17961fafeaf",
      sessionUser: "test-user@test-company.com",
      calls: [["a", 1]],
      newFieldBigQueryMayAdd: true,
    });
    expect(parsed).toEqual({
      requestId: "124ab1c",
      caller: "//bigquery.googleapis.com/projects/p/jobs/p:US.bquxjob_5b4c112c_17961fafeaf",
      sessionUser: "test-user@test-company.com",
      mode: "user",
      field: "value",
      scope: null,
      calls: [["a", 1]],
    });
    expect(parseBatchRequest({ requestId: "r", caller: "", sessionUser: "", calls: [] })).toMatchObject({
      caller: null,
      sessionUser: null,
    });
  });

  it("when a request is not the protocol, then it is refused naming the field", () => {
    const refused = (body: unknown) => {
      try {
        parseBatchRequest(body);
      } catch (e) {
        return errorAnswer(e as SaltServiceError, "c-1");
      }
      throw new Error("accepted");
    };
    expect(refused({ calls: [] }).body).toEqual({ errorMessage: expect.stringMatching(/^requestId: /) });
    expect(
      refused({ requestId: "r", calls: [], userDefinedContext: { mode: "user", feild: "x" } }).body,
    ).toEqual({
      errorMessage: expect.stringMatching(/userDefinedContext: Unrecognized key: "feild"/),
    });
    expect(refused({ requestId: "r", sessionUser: "\ud800", calls: [] }).body).toEqual({
      errorMessage: expect.stringMatching(/sessionUser: must be well-formed Unicode/),
    });
    const tooMany = refused({ requestId: "r", calls: Array.from({ length: MAX_BATCH_CALLS + 1 }, () => []) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toEqual({ errorMessage: expect.stringMatching(/at most 10000 calls per request/) });
  });

  it("when an outcome is an error, then its status says whether a retry can help, and its message fits 1,000 characters", () => {
    const answer = (code: SaltServiceError["code"], details = {}) =>
      errorAnswer(new SaltServiceError(code, "x".repeat(5000), details), "corr-1");
    expect(answer("invalid-argument").status).toBe(400);
    expect(answer("failed-precondition").status).toBe(400);
    expect(answer("unauthenticated")).toMatchObject({
      status: 401,
      headers: { "WWW-Authenticate": expect.any(String) },
    });
    expect(answer("permission-denied").status).toBe(403);
    expect(answer("resource-exhausted", { retry_after_seconds: 7 })).toMatchObject({
      status: 429,
      headers: { "Retry-After": "7" },
    });
    expect(answer("unavailable").status).toBe(503);
    expect(answer("deadline-exceeded").status).toBe(503);
    expect(answer("internal").status).toBe(500);
    const message = (answer("invalid-argument").body as { errorMessage: string }).errorMessage;
    expect(message.length).toBeLessThanOrEqual(1000);
    expect(message).toMatch(/… \[correlation_id corr-1\]$/);
  });
});

/** A request and response as the Functions framework hands them over. */
function exchange(method: string, headers: Record<string, string>, body: unknown) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const req = {
    method,
    body,
    rawBody: Buffer.from(JSON.stringify(body)),
    get: (name: string) => lower[name.toLowerCase()],
  };
  const res = {
    code: 0,
    headers: {} as Record<string, string>,
    sent: undefined as unknown,
    status(c: number) {
      this.code = c;
      return this;
    },
    set(k: string, v: string) {
      this.headers[k] = v;
      return this;
    },
    end(text: string) {
      this.sent = JSON.parse(text) as unknown;
      return this;
    },
  };
  return { req: req as never, res };
}

describe("salts-pseudonymizeBatch's handler (in process, memory backend)", () => {
  const runtime = (emulator: boolean) =>
    composeServices({
      config: testConfig({
        backend: "memory",
        emulator,
        projectId: "demo-salts",
        region: "us-central1",
        bigqueryInvokers: `${INVOKER}, pipeline@demo-salts.iam.gserviceaccount.com`,
      }),
      secrets: runtimeSecrets({ key: randomBytes(32).toString("hex") }),
    });
  const body = { requestId: "r-1", caller: "job-1", sessionUser: "ann@example.com", calls: [["alice", "a"]] };

  it("when a production configuration is called with an unsigned token, then 401 and nothing is pseudonymized", async () => {
    const rt = runtime(false);
    const { req, res } = exchange(
      "POST",
      { authorization: `Bearer ${unsignedIdToken(INVOKER, AUDIENCE)}` },
      body,
    );
    await serveBatch(rt, req, res);
    expect(res.code).toBe(401);
    expect(res.sent).toEqual({ errorMessage: expect.stringMatching(/only under the Functions emulator/) });
    expect(await rt.salts.count("user")).toBe(0);
  });

  it("when the emulator configuration is called by an invoker, then 200 with the replies; by anyone else 403; without a token 401", async () => {
    const rt = runtime(true);
    const ok = exchange(
      "POST",
      { authorization: `Bearer ${unsignedIdToken(INVOKER, AUDIENCE)}`, "x-correlation-id": "c-7" },
      body,
    );
    await serveBatch(rt, ok.req, ok.res);
    expect(ok.res.code).toBe(200);
    expect(ok.res.headers["X-Correlation-Id"]).toBe("c-7");
    expect(ok.res.sent).toEqual({
      replies: [(await rt.pseudonymizer.pseudonymizeUserData("alice", { value: "a" }, ["value"])).data.value],
    });
    const stranger = exchange(
      "POST",
      { authorization: `Bearer ${unsignedIdToken("x@other.iam.gserviceaccount.com", AUDIENCE)}` },
      body,
    );
    await serveBatch(rt, stranger.req, stranger.res);
    expect(stranger.res.code).toBe(403);
    const anonymous = exchange("POST", {}, body);
    await serveBatch(rt, anonymous.req, anonymous.res);
    expect(anonymous.res.code).toBe(401);
    const get = exchange("GET", { authorization: `Bearer ${unsignedIdToken(INVOKER, AUDIENCE)}` }, body);
    await serveBatch(rt, get.req, get.res);
    expect([get.res.code, get.res.headers.Allow]).toEqual([405, "POST"]);
  });
});
