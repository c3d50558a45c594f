import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RuntimeSecret, SecretManagerSecret } from "../../functions/adapters/secretManager/secretVersions";
import { pepperText } from "../../functions/adapters/secretManager/validators";
import { secretManagerClient } from "../../functions/app/firebase";
import { LocalSecretManager as FakeSecretManager } from "../../scripts/lib/secretManager.mjs";

const PROJECT = "demo-salts";
const SECRET = "PSEUDONYM_PEPPER";

describe("pepper from Secret Manager (real client, local gRPC server)", () => {
  const fake = new FakeSecretManager();
  let host: string;
  // Peppers are text (as `openssl rand -base64` writes them): see pepperBytes.test.ts for the rule.
  const v1 = Buffer.from(randomBytes(24).toString("base64"));
  const v2 = Buffer.from(randomBytes(48).toString("base64"));

  beforeAll(async () => {
    host = await fake.start();
    fake.addVersion(PROJECT, SECRET, v1);
    fake.addVersion(PROJECT, SECRET, v2);
    fake.addVersion(PROJECT, "SHORT", Buffer.from("x".repeat(31)));
    fake.addVersion(PROJECT, "EMPTY", Buffer.alloc(0));
  });
  afterAll(() => fake.stop());
  beforeEach(() => {
    fake.calls.length = 0;
  });

  const source = (secret = SECRET, version = "latest") =>
    new SecretManagerSecret(secretManagerClient(host), PROJECT, secret, {
      pinned: version,
      validate: pepperText,
      timeoutMs: 3000,
    });

  it("when pinned to latest, then it resolves to the concrete newest version once and caches it", async () => {
    const s = source();
    const a = await s.current();
    const b = await s.current();
    expect(a.version).toBe(2);
    expect(a.bytes.equals(v2)).toBe(true);
    expect(b).toBe(a);
    expect(fake.calls).toEqual([`access projects/${PROJECT}/secrets/${SECRET}/versions/latest`]);
    // The resolved version is also known by number: no second call.
    expect((await s.version(2)).bytes.equals(v2)).toBe(true);
    expect(fake.calls).toHaveLength(1);
  });

  it("when pinned to a version, then that version is used and older ones load on demand", async () => {
    const s = source(SECRET, "1");
    expect((await s.current()).version).toBe(1);
    const other = source();
    expect((await other.version(1)).bytes.equals(v1)).toBe(true);
    expect((await other.version(1)).bytes.equals(v1)).toBe(true);
    expect(fake.calls.filter((c) => c.endsWith("/versions/1"))).toHaveLength(2);
  });

  it("when a version is disabled, then it fails closed with failed-precondition, as latest does when it is the newest", async () => {
    fake.setState(PROJECT, SECRET, 2, "DISABLED");
    try {
      await expect(source(SECRET, "2").current()).rejects.toMatchObject({ code: "failed-precondition" });
      // Secret Manager's `latest` is the newest version whatever its state: no older version is used instead.
      await expect(source().current()).rejects.toMatchObject({
        code: "failed-precondition",
        message: `${SECRET} version 2 (latest) is disabled or destroyed`,
      });
      expect((await source(SECRET, "1").current()).version).toBe(1);
    } finally {
      fake.setState(PROJECT, SECRET, 2, "ENABLED");
    }
  });

  it("when the secret does not exist, then failed-precondition naming the secret", async () => {
    await expect(source("NOPE").current()).rejects.toMatchObject({
      code: "failed-precondition",
      message: expect.stringContaining("NOPE"),
    });
  });

  it("when the pepper is shorter than 32 bytes or empty, then it is refused", async () => {
    await expect(source("SHORT").current()).rejects.toMatchObject({
      code: "failed-precondition",
      message: expect.stringMatching(/shorter than 32 bytes/),
    });
    await expect(source("EMPTY").current()).rejects.toMatchObject({ code: "failed-precondition" });
  });

  it("when the server is down, then unavailable, and a later call retries", async () => {
    const down = new FakeSecretManager();
    const downHost = await down.start();
    down.addVersion(PROJECT, SECRET, v1);
    await down.stop();
    const s = new SecretManagerSecret(secretManagerClient(downHost), PROJECT, SECRET, {
      validate: pepperText,
      timeoutMs: 2000,
    });
    await expect(s.current()).rejects.toMatchObject({ code: "unavailable" });
  });

  it("when absurd or missing versions are asked again and again, then Secret Manager is not called for each", async () => {
    const s = new SecretManagerSecret(secretManagerClient(host), PROJECT, SECRET, {
      validate: pepperText,
      refuseAboveNewest: true,
    });
    await s.current(); // resolves latest (version 2): versions above it cannot exist yet
    fake.calls.length = 0;
    for (const v of [3, 999, 123456789, 3, 999]) {
      await expect(s.version(v)).rejects.toMatchObject({ code: "failed-precondition" });
    }
    expect(fake.calls).toEqual([]);
    fake.setState(PROJECT, SECRET, 1, "DISABLED");
    try {
      for (let i = 0; i < 5; i++)
        await expect(s.version(1)).rejects.toMatchObject({ code: "failed-precondition" });
      expect(fake.calls).toHaveLength(1);
    } finally {
      fake.setState(PROJECT, SECRET, 1, "ENABLED");
    }
  });

  it("when a loaded version is disabled later, then it stops being used once revalidated", async () => {
    let now = 1_000_000;
    const s = new SecretManagerSecret(secretManagerClient(host), PROJECT, SECRET, {
      validate: pepperText,
      revalidateMs: 60_000,
      now: () => now,
    });
    expect((await s.version(1)).version).toBe(1);
    fake.setState(PROJECT, SECRET, 1, "DISABLED");
    try {
      expect((await s.version(1)).version).toBe(1); // still within the revalidation period
      now += 61_000;
      await expect(s.version(1)).rejects.toMatchObject({ code: "failed-precondition" });
    } finally {
      fake.setState(PROJECT, SECRET, 1, "ENABLED");
    }
  });

  it("when the pinned version is malformed, then the source refuses to start", () => {
    expect(() => source(SECRET, "v2")).toThrow(/latest/);
  });
});

describe("pepper from the Functions runtime", () => {
  it("when the bound value is missing, empty or short, then failed-precondition; never a default", async () => {
    for (const value of ["", "short"]) {
      await expect(
        new RuntimeSecret("PSEUDONYM_PEPPER", () => value, 1, pepperText).current(),
      ).rejects.toMatchObject({
        code: "failed-precondition",
      });
    }
    const ok = new RuntimeSecret("PSEUDONYM_PEPPER", () => "x".repeat(32), 3, pepperText);
    expect((await ok.current()).version).toBe(3);
    await expect(ok.version(2)).rejects.toMatchObject({ code: "failed-precondition" });
  });
});
