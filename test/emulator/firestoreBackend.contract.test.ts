import { FirestoreSaltBackend } from "../../functions/adapters/firestore/firestoreBackend";
import { backendContract } from "../contract/saltBackend.contract";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { makeDeps } from "../support/testDeps";

backendContract("firestore (emulator)", async () => {
  const db = adminFirestore();
  const { deps, state } = makeDeps();
  const backend = new FirestoreSaltBackend(db, deps);
  return {
    backend,
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
});
