import { readFileSync } from "node:fs";
import {
  assertFails,
  initializeTestEnvironment,
  type RulesTestEnvironment,
} from "@firebase/rules-unit-testing";
import { collection, deleteDoc, doc, getDoc, getDocs, setDoc, setLogLevel } from "firebase/firestore";
import { afterAll, beforeAll, describe, it } from "vitest";
import { firestoreHost, PROJECT_ID } from "../support/firestore";

const STORED = [
  "salts_user/YWxpY2U",
  "salts_global/cGFnZV92aWV3",
  "salts_user/YWxpY2U/salt_versions/1",
  "salts_audit/some-entry",
  "salts_jobs/job-1",
  "salts_rate_limits/admin-1",
  "salts_meta/config",
];

describe("firestore.rules", () => {
  let env: RulesTestEnvironment;

  beforeAll(async () => {
    // Refusals are the expected outcome here; the client SDK would log each one.
    setLogLevel("silent");
    const [host, port] = firestoreHost().split(":");
    env = await initializeTestEnvironment({
      projectId: PROJECT_ID,
      firestore: { host: host!, port: Number(port), rules: readFileSync("firestore.rules", "utf8") },
    });
    await env.clearFirestore();
    await env.withSecurityRulesDisabled(async (ctx) => {
      for (const path of STORED) await setDoc(doc(ctx.firestore(), path), { seeded: true });
    });
  });

  afterAll(async () => {
    await env?.clearFirestore();
    await env?.cleanup();
  });

  const clients = () =>
    [
      ["an unauthenticated client", env.unauthenticatedContext().firestore()],
      ["a signed-in user", env.authenticatedContext("alice").firestore()],
      ["a signed-in admin (custom claim)", env.authenticatedContext("root", { admin: true }).firestore()],
    ] as const;

  it("when any client reads a stored document, then it is refused", async () => {
    for (const [, db] of clients()) {
      for (const path of STORED) await assertFails(getDoc(doc(db, path)));
    }
  });

  it("when any client lists a collection, then it is refused", async () => {
    for (const [, db] of clients()) {
      for (const name of ["salts_user", "salts_global", "salts_audit", "salts_jobs"]) {
        await assertFails(getDocs(collection(db, name)));
      }
    }
  });

  it("when any client writes or deletes, then it is refused", async () => {
    for (const [, db] of clients()) {
      for (const path of STORED) {
        await assertFails(setDoc(doc(db, path), { version: 99 }));
        await assertFails(deleteDoc(doc(db, path)));
      }
      await assertFails(setDoc(doc(db, "anything/else"), { x: 1 }));
    }
  });
});
