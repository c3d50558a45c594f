import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSecretManagerClient } from "../../functions/app/firebase";
import { encodeDocId } from "../../functions/domain/ids";
import { adminFirestore, clearFirestore, PROJECT_ID } from "../support/firestore";
import { call, createUser, localSecrets, type TestUser } from "../support/stack";

const SECRET = `projects/${PROJECT_ID}/secrets/SALT_ENCRYPTION_KEY`;
// SALT_KEY_REFRESH_SECONDS of the functions emulator (.env.local): how long a warm instance may go on
// with a version before asking Secret Manager again.
const REFRESH_MS = 2000;
const db = () => adminFirestore();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A warm functions-emulator instance, the stack's local Secret Manager, and its real client: the key version
 * in use is disabled (as an operator would, after a compromise or by mistake), and the instance must stop
 * encrypting under it within the refresh interval rather than fall back to what it had loaded.
 */
describe("a disabled key version on a warm instance (functions emulator, local Secret Manager)", () => {
  const sm = newSecretManagerClient(process.env.SECRET_MANAGER_EMULATOR_HOST ?? null);
  let admin: TestUser;
  let v2: string;

  beforeAll(async () => {
    if (!process.env.SECRET_MANAGER_EMULATOR_HOST) throw new Error("run through scripts/with-emulators.mjs");
    await clearFirestore();
    admin = await createUser({ admin: true }, "keys-admin");
    const [version] = await sm.addSecretVersion({
      parent: SECRET,
      payload: { data: Buffer.from(randomBytes(32).toString("base64")) },
    });
    v2 = version.name!;
    expect(v2).toBe(`${SECRET}/versions/2`);
  });

  afterAll(async () => {
    // The stack goes back to exactly what it started with (version 1, the value in .secret.local), as a
    // deleted and recreated secret: versions cannot be deleted one by one.
    await sm.deleteSecret({ name: SECRET });
    await sm.createSecret({
      parent: `projects/${PROJECT_ID}`,
      secretId: "SALT_ENCRYPTION_KEY",
      secret: { replication: { automatic: {} } },
    });
    await sm.addSecretVersion({
      parent: SECRET,
      payload: { data: Buffer.from(localSecrets().SALT_ENCRYPTION_KEY!) },
    });
    await clearFirestore();
    await sleep(REFRESH_MS + 500); // warm instances re-resolve `latest` (version 1 again) before the next file
  });

  const keyVersionOf = async (id: string): Promise<number | undefined> =>
    (await db().collection("salts_user").doc(encodeDocId(id)).get()).get("salt.key_version") as
      number | undefined;

  it("when the current version is disabled, then within the refresh interval rotateUser is refused with failed-precondition naming it, and nothing is written under it", async () => {
    // Warm the instance until it encrypts under version 2 (it re-resolves `latest` every REFRESH_MS).
    let warm = "";
    for (let i = 0; i < 60; i++) {
      warm = `warm-${i}`;
      const r = await call("rotateUser", { user_id: warm, force: true }, { token: admin.token });
      expect(r.error, r.raw).toBeUndefined();
      if ((await keyVersionOf(warm)) === 2) break;
      await sleep(500);
    }
    expect(await keyVersionOf(warm)).toBe(2);

    await sm.disableSecretVersion({ name: v2 });
    const disabledAt = Date.now();
    // Any call made one refresh interval after the instance last confirmed the version asks again.
    await sleep(REFRESH_MS + 200);

    const fresh = `after-disable-${randomBytes(3).toString("hex")}`;
    const created = await call("rotateUser", { user_id: fresh, force: true }, { token: admin.token });
    expect(created.error).toMatchObject({
      status: "FAILED_PRECONDITION",
      message: expect.stringContaining("SALT_ENCRYPTION_KEY version 2 (latest) is disabled or destroyed"),
    });
    const rotated = await call("rotateUser", { user_id: warm }, { token: admin.token });
    expect(rotated.error?.status).toBe("FAILED_PRECONDITION");
    expect(rotated.error?.message).toContain("version 2");

    // Nothing was created, rotated or retired under the disabled version after it was disabled.
    expect((await db().collection("salts_user").doc(encodeDocId(fresh)).get()).exists).toBe(false);
    expect((await db().collection("salts_user").doc(encodeDocId(warm)).get()).get("version")).toBe(1);
    const underV2 = await db().collection("salts_user").where("salt.key_version", "==", 2).get();
    for (const doc of underV2.docs) {
      expect((doc.get("updated_at") as { toMillis(): number }).toMillis()).toBeLessThan(disabledAt);
    }
    const retired = await db().collectionGroup("salt_versions").get();
    for (const doc of retired.docs) {
      if (doc.get("salt.key_version") === 2) {
        expect((doc.get("retired_at") as { toMillis(): number }).toMillis()).toBeLessThan(disabledAt);
      }
    }
  });
});
