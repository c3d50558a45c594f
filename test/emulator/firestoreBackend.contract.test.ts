import { FirestoreAuditStore } from "../../functions/adapters/firestore/firestoreAudit";
import { FirestoreRequestStore } from "../../functions/adapters/firestore/firestoreRequests";
import { FirestoreSaltStore } from "../../functions/adapters/firestore/firestoreSaltStore";
import type { SaltKind } from "../../functions/domain/ids";
import { rewrapContract } from "../contract/rewrap.contract";
import { backendContract } from "../contract/saltBackend.contract";
import { batchContract, type BatchHarness } from "../contract/saltBatches.contract";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { makeDeps } from "../support/testDeps";

async function harness(): Promise<BatchHarness> {
  const db = adminFirestore();
  const { deps, state } = makeDeps();
  const backend = new FirestoreSaltStore(db, deps);
  return {
    backend,
    audit: new FirestoreAuditStore(db, deps.clock, deps.auditKey),
    requests: new FirestoreRequestStore(db, deps.clock),
    state,
    reset: clearFirestore,
    tamper: async (kind: SaltKind, id: string) => {
      const ref = backend.saltRef(kind, id);
      const salt = (await ref.get()).get("salt") as { ct: Buffer };
      const ct = Buffer.from(salt.ct);
      ct[0] = ct[0]! ^ 0x01;
      await ref.update({ "salt.ct": ct });
    },
    keepCopy: async (kind: SaltKind, id: string) => {
      const ref = backend.saltRef(kind, id);
      const doc = (await ref.get()).data()!;
      const versions = (await ref.collection("salt_versions").get()).docs.map((d) => ({
        id: d.id,
        data: d.data(),
      }));
      return {
        putBack: async () => {
          await ref.set(doc);
          for (const v of versions) await ref.collection("salt_versions").doc(v.id).set(v.data);
        },
        putCiphertextInto: async () => {
          await ref.update({ salt: doc.salt });
        },
      };
    },
    copyCiphertext: async (kind: SaltKind, from: string, to: string) => {
      const src = (await backend.saltRef(kind, from).get()).get("salt");
      await backend.saltRef(kind, to).update({ salt: src });
    },
  };
}

backendContract("firestore (emulator)", harness);
batchContract("firestore (emulator)", harness);
rewrapContract("firestore (emulator)", harness);
