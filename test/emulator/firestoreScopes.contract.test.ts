import { FirestoreAuditStore } from "../../functions/adapters/firestore/firestoreAudit";
import { FirestoreScopeStore } from "../../functions/adapters/firestore/firestoreScopeStore";
import { encodeDocId } from "../../functions/domain/ids";
import { scopeStoreContract } from "../contract/scopeStore.contract";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { makeDeps } from "../support/testDeps";

scopeStoreContract("firestore (emulator)", async () => {
  const db = adminFirestore();
  const { deps, state } = makeDeps();
  return {
    scopes: new FirestoreScopeStore(db, deps),
    audit: new FirestoreAuditStore(db, deps.clock, deps.auditKey),
    state,
    reset: clearFirestore,
    tamper: async (scopeId) => {
      const ref = db.collection("salts_scopes").doc(encodeDocId(scopeId));
      const ct = Buffer.from(((await ref.get()).get("secret") as { ct: Buffer }).ct);
      ct[0] = ct[0]! ^ 0x01;
      await ref.update({ "secret.ct": ct });
    },
    copySecret: async (from, to) => {
      const src = (await db.collection("salts_scopes").doc(encodeDocId(from)).get()).get("secret");
      await db.collection("salts_scopes").doc(encodeDocId(to)).update({ secret: src });
    },
  };
});
