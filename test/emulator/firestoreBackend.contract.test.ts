import { FirestoreAuditStore } from "../../functions/adapters/firestore/firestoreAudit";
import { FirestoreSaltStore } from "../../functions/adapters/firestore/firestoreSaltStore";
import { rewrapContract } from "../contract/rewrap.contract";
import { backendContract, type BackendHarness } from "../contract/saltBackend.contract";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { makeDeps } from "../support/testDeps";

async function harness(): Promise<BackendHarness> {
  const db = adminFirestore();
  const { deps, state } = makeDeps();
  const backend = new FirestoreSaltStore(db, deps);
  return {
    backend,
    audit: new FirestoreAuditStore(db, deps.clock, deps.auditKey),
    state,
    reset: clearFirestore,
    tamper: async (kind, id) => {
      const ref = backend.saltRef(kind, id);
      const salt = (await ref.get()).get("salt") as { ct: Buffer };
      const ct = Buffer.from(salt.ct);
      ct[0] = ct[0]! ^ 0x01;
      await ref.update({ "salt.ct": ct });
    },
    copyCiphertext: async (kind, from, to) => {
      const src = (await backend.saltRef(kind, from).get()).get("salt");
      await backend.saltRef(kind, to).update({ salt: src });
    },
  };
}

backendContract("firestore (emulator)", harness);
rewrapContract("firestore (emulator)", harness);
