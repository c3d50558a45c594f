import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeDocId } from "../../functions/domain/ids";
import { FakeGoogleOAuth } from "../support/fakeGoogleOAuth";
import { adminFirestore, clearFirestore, PROJECT_ID } from "../support/firestore";
import { directEnv, operator, salts, tempDir, type Env, type Operator } from "./cli.harness";

const SUPPORT = path.resolve(__dirname, "../support");
const preload = (file: string): string => `--require ${path.join(SUPPORT, file)}`;

/** A JWT shaped like a Firebase ID token Google signed (RS256); never valid, only its shape matters. */
function signedLookingToken(): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return [
    part({ alg: "RS256", kid: "f00d", typ: "JWT" }),
    part({ iss: `https://securetoken.google.com/${PROJECT_ID}`, aud: PROJECT_ID, sub: "u", admin: true }),
    "c2lnbmF0dXJlLWJ5LWdvb2dsZQ",
  ].join(".");
}

/** An HTTP server that records whatever reaches it (a host FUNCTIONS_EMULATOR_HOST could name). */
async function recorder() {
  const seen: { url: string; authorization: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? "", authorization: req.headers.authorization });
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"result":{}}');
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, seen, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("salts CLI: tokens stay private, direct retries are safe, CSV is inert", () => {
  let admin: Operator;

  beforeAll(async () => {
    await clearFirestore();
    admin = await operator({ admin: true }, "admin");
  });

  describe("--verbose never prints a token", () => {
    const google = new FakeGoogleOAuth("breakglass-person@example.test");
    const refreshToken = `1//0g${"r".repeat(60)}`;
    const clientSecret = "GOCSPX-client-secret-value-for-test";
    let env: Env;

    beforeAll(async () => {
      await google.start();
      const adc = path.join(tempDir("adc-user"), "application_default_credentials.json");
      writeFileSync(
        adc,
        JSON.stringify({
          type: "authorized_user",
          client_id: "1234.apps.googleusercontent.com",
          client_secret: clientSecret,
          refresh_token: refreshToken,
        }),
      );
      env = directEnv({
        GOOGLE_APPLICATION_CREDENTIALS: adc,
        FAKE_GOOGLE_OAUTH_HOST: google.host,
        NODE_OPTIONS: preload("googleOAuthRedirect.cjs"),
      });
    });
    afterAll(() => google.stop());

    it("when direct mode learns who the user credentials belong to, then no access token, refresh token or client secret reaches stderr", async () => {
      const r = await salts(
        ["--direct", "rotate", "user", "verbose-user", "--force", "--json", "--verbose"],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/direct mode as breakglass-person@example\.test/);
      // The token was used (the identity came from tokeninfo), in a header and never in a URL.
      const info = google.requests.find((q) => q.url.startsWith("/tokeninfo"));
      expect(info?.headers.authorization).toBe(`Bearer ${google.accessToken}`);
      expect(info?.url).toBe("/tokeninfo");
      for (const secret of [
        google.accessToken,
        refreshToken,
        clientSecret,
        google.accessToken.slice(5, 30),
      ]) {
        expect(r.stderr).not.toContain(secret);
        expect(r.stdout).not.toContain(secret);
      }
      const log = await salts(["--direct", "audit-log", "--target", "verbose-user", "--json"], env);
      expect(log.json().entries[0].actor).toEqual({ uid: "breakglass-person@example.test", via: "cli" });
    });

    it("when a callable session is refreshed under --verbose, then neither the ID token nor the refresh token is printed", async () => {
      const file = path.join(String(admin.env.XDG_CONFIG_HOME), "salts", "credentials.json");
      const store = JSON.parse(readFileSync(file, "utf8")) as Record<string, Record<string, unknown>>;
      const key = Object.keys(store)[0]!;
      const before = { ...store[key]! };
      store[key] = { ...before, expires_at: 0 }; // due for a refresh on the next call
      writeFileSync(file, JSON.stringify(store));
      const r = await salts(["status", "--verbose"], admin.env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/securetoken\.googleapis\.com\/v1\/token\?key=… -> HTTP 200/);
      const after = (JSON.parse(readFileSync(file, "utf8")) as typeof store)[key]!;
      expect(after.id_token).not.toBe(before.id_token);
      for (const secret of [before.id_token, before.refresh_token, after.id_token, after.refresh_token]) {
        expect(r.stderr).not.toContain(String(secret));
      }
    });
  });

  describe("plain HTTP carries only emulator tokens", () => {
    let target: Awaited<ReturnType<typeof recorder>>;
    beforeAll(async () => {
      target = await recorder();
    });
    afterAll(() => target.stop());

    it("when a real (signed) ID token would go over plain HTTP to FUNCTIONS_EMULATOR_HOST, then the CLI refuses and nothing is sent", async () => {
      const r = await salts(["status"], {
        XDG_CONFIG_HOME: tempDir("real-token"),
        FUNCTIONS_EMULATOR_HOST: target.host,
        FIREBASE_AUTH_EMULATOR_HOST: undefined,
        SALTS_ID_TOKEN: signedLookingToken(),
      });
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(
        /Refusing to send a real Firebase ID token over plain HTTP to 127\.0\.0\.1:\d+/,
      );
      expect(r.stderr).not.toContain(signedLookingToken().split(".")[2]!);
      expect(target.seen).toEqual([]);
    });

    it("when only FUNCTIONS_EMULATOR_HOST is set and the stored session is a production one, then the CLI refuses and nothing is sent", async () => {
      const config = tempDir("prod-session");
      const token = signedLookingToken();
      const login = {
        email: "ops@example.test",
        uid: "u",
        api_key: "AIza-not-used",
        refresh_token: "AMf-not-used",
        id_token: token,
        expires_at: Date.now() + 3_600_000,
      };
      const dir = path.join(config, "salts");
      await import("node:fs").then((fs) => fs.mkdirSync(dir, { recursive: true }));
      writeFileSync(path.join(dir, "credentials.json"), JSON.stringify({ [`google/${PROJECT_ID}`]: login }));
      const r = await salts(["rotate", "user", "x", "--force"], {
        XDG_CONFIG_HOME: config,
        FUNCTIONS_EMULATOR_HOST: target.host,
        FIREBASE_AUTH_EMULATOR_HOST: undefined,
      });
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(/set FIREBASE_AUTH_EMULATOR_HOST/);
      expect(target.seen).toEqual([]);
    });

    it("when the session is the Auth emulator's, then calls over plain HTTP go through as before", async () => {
      const r = await salts(["status", "--json"], admin.env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json().correlation_id).toMatch(/^cli-/);
    });
  });

  it("when a --direct mutation's commit answer is lost, then the CLI retries with the same request_id and the salt rotates exactly once", async () => {
    const env = directEnv();
    const id = "direct-retry-user";
    expect((await salts(["--direct", "rotate", "user", id, "--force", "--json"], env)).code).toBe(0);
    // The next call's commit is applied but its answer lost: without the request_id a retry would rotate again.
    const r = await salts(["--direct", "rotate", "user", id, "--force", "--json", "--verbose"], {
      ...env,
      LOSE_COMMIT_ANSWERS: "1",
      NODE_OPTIONS: preload("loseCommitAnswers.cjs"),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/rotateUser answered deadline-exceeded; retrying \(attempt 2\)/);
    expect(r.json()).toMatchObject({ salt: { id, version: 2 } });
    const doc = await adminFirestore().collection("salts_user").doc(encodeDocId(id)).get();
    expect(doc.get("version")).toBe(2);
    const entries = await adminFirestore()
      .collection("salts_audit")
      .where("target.id", "==", id)
      .where("operation", "==", "rotate_user")
      .get();
    expect(entries.size).toBe(2); // the creation and this one rotation
    const requests = await adminFirestore().collection("salts_requests").get();
    expect(requests.size).toBeGreaterThanOrEqual(2); // each call carried a request_id, stored with its answer
  });

  it("when an audit reason carries a formula after a ; or a tab, then the exported CSV starts no formula under any separator", async () => {
    const id = "csv-user";
    const reason = 'quarterly;=HYPERLINK("http://evil.test")\t+1';
    const rotated = await salts(["rotate", "user", id, "--force", "--reason", reason], admin.env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const auditor = await operator({ auditor: true }, "auditor");
    const r = await salts(["audit-log", "export", "--target", id], auditor.env);
    expect(r.code, r.stderr).toBe(0);
    const pieces = r.stdout.split(/[,;\t\r\n]/).map((p) => p.replace(/^["\s]*/, ""));
    expect(pieces.filter((p) => /^[=+\-@]/.test(p))).toEqual([]);
    const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
    expect(rows[0]!.reason).toBe("quarterly;'=HYPERLINK(\"http://evil.test\")\t'+1");
  });
});
