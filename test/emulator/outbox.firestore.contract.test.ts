import { Timestamp } from "firebase-admin/firestore";
import { FirestoreJobStore } from "../../functions/adapters/firestore/firestoreJobStore";
import { FirestoreOutbox } from "../../functions/adapters/firestore/firestoreOutbox";
import { FirestoreSaltStore } from "../../functions/adapters/firestore/firestoreSaltStore";
import { outboxContract } from "../contract/outbox.contract";
import { adminFirestore, clearFirestore } from "../support/firestore";
import { makeDeps } from "../support/testDeps";

outboxContract("firestore (emulator)", async () => {
  const db = adminFirestore();
  const { deps, state } = makeDeps();
  const committed: string[] = [];
  const events = { committed: (keys: readonly string[]) => void committed.push(...keys) };
  return {
    salts: new FirestoreSaltStore(db, { ...deps, events }),
    jobs: new FirestoreJobStore(db, 20_000, events),
    outbox: new FirestoreOutbox(db, deps.clock),
    state,
    committed,
    reset: clearFirestore,
    published: async (id) => {
      const snap = await db.collection("salts_events").doc(id).get();
      if (snap.get("pending") !== undefined) return null;
      return { expiresAt: (snap.get("expire_at") as Timestamp).toDate() };
    },
  };
});
