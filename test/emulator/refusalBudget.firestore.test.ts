import { FirestoreRefusalBudget } from "../../functions/adapters/firestore/firestoreRefusals";
import { FirestoreRateLimiter } from "../../functions/adapters/firestore/firestoreStores";
import { idHash } from "../../functions/domain/crypto";
import { refusalBudgetContract } from "../contract/refusalBudget.contract";
import { adminFirestore } from "../support/firestore";

refusalBudgetContract("firestore (emulator)", async (clock) => {
  const db = adminFirestore();
  const now = () => new Date(clock.now);
  // The shared budget is one document for every caller: each test starts it afresh.
  await db.collection("salts_rate_limits").doc(idHash("denied-audit:*")).delete();
  return new FirestoreRefusalBudget(db, new FirestoreRateLimiter(db, now), now);
});
