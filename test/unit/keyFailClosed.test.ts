import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretManagerSecret } from "../../functions/adapters/secretManager/secretVersions";
import { aesKeyText } from "../../functions/adapters/secretManager/validators";
import { secretManagerClient } from "../../functions/app/firebase";
import { LocalSecretManager } from "../../scripts/lib/secretManager.mjs";

const PROJECT = "demo-salts";
const REFRESH = 60_000;

/** The encryption key as a warm instance holds it: `latest`, re-resolved every REFRESH ms of a test clock. */
function keyRing(host: string, secret: string, clock: { now: number }) {
  return new SecretManagerSecret(secretManagerClient(host), PROJECT, secret, {
    validate: aesKeyText,
    refreshMs: REFRESH,
    timeoutMs: 2000,
    now: () => clock.now,
  });
}

describe("the salt-encryption key fails closed on a warm instance (real client, local Secret Manager)", () => {
  const sm = new LocalSecretManager();
  let host: string;
  let n = 0;
  const fresh = (versions: number) => {
    const name = `KEY_${++n}`;
    for (let i = 0; i < versions; i++) sm.addVersion(PROJECT, name, randomBytes(32).toString("base64"));
    return name;
  };

  beforeAll(async () => {
    host = await sm.start();
  });
  afterAll(() => sm.stop());

  for (const state of ["DISABLED", "DESTROYED"] as const) {
    it(`when the current version is ${state.toLowerCase()}, then within one refresh interval every call is failed-precondition naming it, never the older version`, async () => {
      const name = fresh(2);
      const clock = { now: 1_000_000 };
      const ring = keyRing(host, name, clock);
      expect((await ring.current()).version).toBe(2);
      sm.setState(PROJECT, name, 2, state);
      clock.now += REFRESH / 2;
      expect((await ring.current()).version).toBe(2); // not yet asked again: the documented window
      clock.now += REFRESH / 2 + 1;
      for (let i = 0; i < 3; i++) {
        await expect(ring.current()).rejects.toMatchObject({
          code: "failed-precondition",
          message: `${name} version 2 (latest) is disabled or destroyed`,
        });
      }
      expect(ring.peek()).toBeNull();
      // Nor does the instance keep decrypting with its cached copy.
      await expect(ring.version(2)).rejects.toMatchObject({ code: "failed-precondition" });
      expect((await ring.version(1)).version).toBe(1);
    });
  }

  it("when a pinned version is disabled, then the same: failed-precondition naming it", async () => {
    const name = fresh(2);
    const clock = { now: 1_000_000 };
    const ring = new SecretManagerSecret(secretManagerClient(host), PROJECT, name, {
      pinned: "1",
      validate: aesKeyText,
      refreshMs: REFRESH,
      now: () => clock.now,
    });
    expect((await ring.current()).version).toBe(1);
    sm.setState(PROJECT, name, 1, "DISABLED");
    clock.now += REFRESH + 1;
    await expect(ring.current()).rejects.toMatchObject({
      message: `${name} version 1 is disabled or destroyed`,
    });
  });

  it("when refusals repeat, then Secret Manager is asked again at most every few seconds, and a re-enabled version is used again", async () => {
    const name = fresh(1);
    const clock = { now: 1_000_000 };
    const ring = keyRing(host, name, clock);
    await ring.current();
    sm.setState(PROJECT, name, 1, "DISABLED");
    clock.now += REFRESH + 1;
    sm.calls.length = 0;
    for (let i = 0; i < 20; i++)
      await expect(ring.current()).rejects.toMatchObject({ code: "failed-precondition" });
    expect(sm.calls).toHaveLength(1);
    sm.setState(PROJECT, name, 1, "ENABLED");
    clock.now += 10_001;
    expect((await ring.current()).version).toBe(1);
  });

  it("when Secret Manager is unreachable, then the last confirmed version serves for at most one more interval, then unavailable", async () => {
    const down = new LocalSecretManager();
    const downHost = await down.start();
    down.addVersion(PROJECT, "KEY", randomBytes(32).toString("base64"));
    const clock = { now: 1_000_000 };
    const ring = keyRing(downHost, "KEY", clock);
    expect((await ring.current()).version).toBe(1);
    await down.stop();
    clock.now += REFRESH + 1;
    expect((await ring.current()).version).toBe(1); // a transient fault: the version was confirmed a minute ago
    clock.now += REFRESH;
    await expect(ring.current()).rejects.toMatchObject({ code: "unavailable" });
    expect(ring.peek()).toBeNull();
  });
});
