import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeDocId } from "../../functions/domain/ids";
import { rotateSalt } from "../../functions/usecases/rotateSalt";
import { adminFirestore, firestoreHost } from "../support/firestore";
import { firestoreRuntime, firestoreVia } from "../support/runtimes";
import { TcpProxy } from "../support/tcpProxy";

const KEY = randomBytes(32).toString("base64");
const ctx = { correlationId: "outage", actor: { uid: "admin", via: "callable" as const } };

describe("when Firestore becomes unreachable (connection cut by a test-owned proxy)", () => {
  const proxy = new TcpProxy(process.env.FIRESTORE_EMULATOR_HOST ?? "127.0.0.1:8080");
  beforeAll(async () => {
    firestoreHost();
    await proxy.start();
  });
  afterAll(() => proxy.stop());

  it("then salts already loaded keep pseudonymizing, while creation and rotation fail as unavailable", async () => {
    const alice = `alice-${randomBytes(4).toString("hex")}`;
    const bob = `bob-${randomBytes(4).toString("hex")}`;
    // A zero TTL makes every call go back to storage, so the fallback is what answers during the outage.
    const rt = firestoreRuntime({
      key: KEY,
      firestore: firestoreVia(proxy.host),
      config: { firestoreTimeoutMs: 2000, cacheTtlSeconds: 0 },
    });
    const before = await rt.pseudonymizer.pseudonymizeUserData(alice, { email: "a@example.com" }, ["email"]);
    expect(rt.cache.stats.stale).toBe(0);

    proxy.cut();
    const during = await rt.pseudonymizer.pseudonymizeUserData(alice, { email: "a@example.com" }, ["email"]);
    expect(during.data.email).toBe(before.data.email);
    expect(rt.cache.stats.stale).toBeGreaterThanOrEqual(1);

    await expect(
      rt.pseudonymizer.pseudonymizeUserData(bob, { email: "b@example.com" }, ["email"]),
    ).rejects.toMatchObject({
      code: "unavailable",
    });
    await expect(rotateSalt(rt, ctx, "user", alice, {})).rejects.toMatchObject({ code: "unavailable" });
    await expect(rt.salts.count("user")).rejects.toMatchObject({ code: "unavailable" });
    proxy.restore();

    // Nothing was created or changed behind the outage.
    const db = adminFirestore();
    expect((await db.collection("salts_user").doc(encodeDocId(bob)).get()).exists).toBe(false);
    expect((await db.collection("salts_user").doc(encodeDocId(alice)).get()).get("version")).toBe(1);
  });

  it("then the memory fallback is never used to invent salts: a memory backend is only ever chosen explicitly", async () => {
    const rt = firestoreRuntime({ key: KEY, config: { backend: "memory" } });
    expect(rt.salts.storageType).toBe("memory");
    const fs = firestoreRuntime({ key: KEY });
    expect(fs.salts.storageType).toBe("firestore");
  });
});
