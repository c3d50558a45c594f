import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { keyIdOf, openSalt, parseEncryptionKey, saltAad } from "../../functions/domain/encryption";
import { encodeDocId } from "../../functions/domain/ids";
import { saltPlace } from "../../functions/domain/rotation";
import { runSweep } from "../../functions/usecases/sweep";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { writeFirstReleaseSalt as firstRelease } from "../support/firstRelease";
import { firestoreRuntime } from "../support/runtimes";

const KEY = randomBytes(32).toString("base64");
const db = () => adminFirestore();

const writeFirstReleaseSalt = (id: string, salt: Buffer, daysAgo: number) =>
  firstRelease(KEY, id, salt, daysAgo);

describe("salts written by the first release (Firestore emulator)", () => {
  beforeAll(() => clearFirestore());

  it("when the sweep passes over them, then they are upgraded in place: same salt, now listed, rewrappable and erasable", async () => {
    const rt = firestoreRuntime({ key: KEY });
    const salt = randomBytes(32);
    await writeFirstReleaseSalt("legacy-due", salt, 200);
    await writeFirstReleaseSalt("legacy-fresh", randomBytes(32), 1);
    // Readable before the upgrade (the key version is found by key id)...
    expect((await rt.salts.get("user", "legacy-due"))?.salt.equals(salt)).toBe(true);
    // ...but invisible to the sharded due listing.
    expect(await rt.salts.countDue("user")).toBe(0);

    const report = await runSweep(rt, {
      correlationId: "upgrade",
      actor: { uid: "scheduler", via: "scheduler" },
    });
    expect(report.upgraded_legacy).toBe(2);
    const doc = (await db().collection("salts_user").doc(encodeDocId("legacy-fresh")).get()).data()!;
    expect(doc).toMatchObject({ key_versions: [1], salt: { key_version: 1 } });
    expect(typeof doc.shard).toBe("number");
    expect(doc.shred).toBeTruthy();
    expect(doc.chain.id).toMatch(/^salt:user:/);
    // Now listed as due (the sweep's job had started before the upgrade): the next sweep rotates it.
    expect(await rt.salts.countDue("user")).toBe(1);
    expect(keyIdOf(parseEncryptionKey(KEY))).toBe(doc.salt.key_id);
    const fresh = await rt.salts.get("user", "legacy-fresh");
    expect(
      openSalt(
        { version: 1, bytes: parseEncryptionKey(KEY) },
        {
          ...doc.salt,
          iv: Buffer.from(doc.salt.iv),
          ct: Buffer.from(doc.salt.ct),
          tag: Buffer.from(doc.salt.tag),
        },
        saltAad(saltPlace("user", "legacy-fresh", doc.chain.id), 1),
      ).equals(fresh!.salt),
    ).toBe(true);
    const again = await runSweep(rt, {
      correlationId: "upgrade-2",
      actor: { uid: "scheduler", via: "scheduler" },
    });
    expect(again.upgraded_legacy).toBe(0);
    expect((await rt.salts.record("user", "legacy-due"))?.version).toBe(2);
  });
});
