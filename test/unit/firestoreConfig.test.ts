import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
const spec = JSON.parse(readFileSync(path.join(root, "firestore.indexes.json"), "utf8"));

describe("firestore.indexes.json", () => {
  it("when validated by firebase-tools' own deploy validator, then it is accepted", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { FirestoreApi } = require(path.join(root, "node_modules/firebase-tools/lib/firestore/api.js"));
    const api = new FirestoreApi();
    expect(() => api.validateSpec(api.upgradeOldSpec(spec))).not.toThrow();
  });

  it("when the audit log is filtered, then a composite index serves each filter combination", () => {
    const fields = (spec.indexes as { collectionGroup: string; fields: { fieldPath: string }[] }[])
      .filter((i) => i.collectionGroup === "salts_audit")
      .map((i) => i.fields.map((f) => f.fieldPath).join(","));
    expect(fields).toEqual(
      expect.arrayContaining([
        "shard,at",
        "target.id,at",
        "operation,shard,at",
        "result,shard,at",
        "operation,result,shard,at",
        "target.id,operation,at",
        "target.id,result,at",
        "target.id,operation,result,at",
        "integrity.chain,integrity.seq",
      ]),
    );
  });
});
