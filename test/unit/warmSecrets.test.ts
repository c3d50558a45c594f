import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { StaticIdentity } from "../../functions/adapters/firebaseIdentity";
import { composeServices } from "../../functions/app/compose";
import { handleCall, type SecretNeed } from "../../functions/edge/callable";
import type { VersionedSecret } from "../../functions/ports/secrets";
import { runtimeSecrets, testConfig } from "../support/runtimes";
import { callableRequest } from "../support/callableRequest";

/** A secret that counts how often its current version is asked for. */
function counted(secret: VersionedSecret): VersionedSecret & { asked: number } {
  const out = {
    asked: 0,
    name: secret.name,
    description: secret.description,
    current: () => {
      out.asked++;
      return secret.current();
    },
    version: (v: number) => secret.version(v),
    peek: () => secret.peek(),
  };
  return out;
}

function runtime(rateLimitPerMinute?: number) {
  const base = runtimeSecrets({ key: randomBytes(32).toString("hex"), pepper: "p".repeat(48) });
  const secrets = {
    keys: counted(base.keys),
    pepper: counted(base.pepper),
    auditKey: counted(base.auditKey),
  };
  const identity = new StaticIdentity(
    new Map([["auditor-1", { disabled: false, validSince: null, claims: { auditor: true } }]]),
  );
  const rt = composeServices({
    config: testConfig({ backend: "memory", ...(rateLimitPerMinute ? { rateLimitPerMinute } : {}) }),
    secrets,
    identity,
  });
  return { rt, secrets };
}

// An operation that reads no secret itself: whatever is asked for is the pipeline's warm-up.
const spec = {
  operation: "warm_probe",
  role: "auditor" as const,
  mutating: false,
  schema: z.object({}).strict(),
  run: () => Promise.resolve({ ok: true }),
};

const request = (uid?: string) => callableRequest(uid);

const turn = () => new Promise((r) => setImmediate(r));

describe("the secrets a callable binds load early, on the instance's first signed-in call", () => {
  it("when the first call is signed in, then the declared secrets start loading, once per instance, and the undeclared never", async () => {
    const { rt, secrets } = runtime();
    const needs: SecretNeed[] = ["pepper"];
    await expect(handleCall(spec, request("auditor-1"), rt, needs)).resolves.toMatchObject({ ok: true });
    await turn();
    // The audit key always (every callable binds it), the pepper as declared, not the salt-encryption key.
    expect(secrets.auditKey.asked).toBeGreaterThanOrEqual(1);
    expect(secrets.pepper.asked).toBe(1);
    expect(secrets.keys.asked).toBe(0);
    await handleCall(spec, request("auditor-1"), rt, needs);
    await turn();
    expect(secrets.pepper.asked).toBe(1);
  });

  it("when the instance's first calls are unauthenticated, then nothing is loaded for them", async () => {
    const { rt, secrets } = runtime();
    await expect(handleCall(spec, request(), rt, ["pepper", "key"])).rejects.toMatchObject({
      code: "unauthenticated",
    });
    await turn();
    expect(secrets.pepper.asked + secrets.keys.asked).toBe(0);
    // The first signed-in call then starts both.
    await handleCall(spec, request("auditor-1"), rt, ["pepper", "key"]);
    await turn();
    expect(secrets.pepper.asked).toBe(1);
    expect(secrets.keys.asked).toBe(1);
  });

  it("when the instance's first signed-in call is rate limited, then its secrets start loading all the same, once", async () => {
    const { rt, secrets } = runtime(1);
    // Another instance spent the caller's one call of this minute: the shared limiter refuses this one.
    await rt.rateLimiter.hit("warm_probe:auditor-1", 1);
    for (let i = 0; i < 3; i++) {
      await expect(handleCall(spec, request("auditor-1"), rt, ["pepper"])).rejects.toMatchObject({
        code: "resource-exhausted",
      });
    }
    await turn();
    expect(secrets.pepper.asked).toBe(1);
    expect(secrets.keys.asked).toBe(0);
  });
});
