import { randomBytes } from "node:crypto";
import { Firestore, Timestamp, type DocumentReference } from "firebase-admin/firestore";
import { FirestoreSaltStore } from "../../functions/adapters/firestore/firestoreSaltStore";
import type { FirestoreHandle } from "../../functions/adapters/firestore/firestoreSaltListing";
import { DEFAULT_POLICY } from "../../functions/domain/policy";
import { planCreate } from "../../functions/domain/rotation";
import { RuntimeSecret } from "../../functions/adapters/secretManager/secretVersions";
import { aesKeyText, auditKeyText } from "../../functions/adapters/secretManager/validators";
import { rawSaltDoc } from "../../bench/seedDue";

/** One document write a commit makes: its collection group, kind, and the data written. */
export interface RecordedWrite {
  group: string;
  op: "create" | "update" | "set" | "delete";
  data: Record<string, unknown>;
}

/** A Firestore client whose batches record their writes and commit nowhere (no network). */
function recordingFirestore(log: RecordedWrite[]): Firestore {
  const db = new Firestore({ projectId: "demo-sim" });
  const record = (op: RecordedWrite["op"]) => (ref: DocumentReference, data?: Record<string, unknown>) => {
    log.push({ group: ref.parent.id, op, data: data ?? {} });
    return batch;
  };
  const batch = {
    create: record("create"),
    update: record("update"),
    set: record("set"),
    delete: record("delete"),
    commit: () => Promise.resolve([]),
  };
  (db as unknown as { batch: () => unknown }).batch = () => batch;
  return db;
}

/**
 * The writes one scheduled rotation makes, read off the real Firestore adapter:
 * a due salt as a listing sees it is rotated by `rotateListed` (the job's path)
 * on a client that records instead of committing. The model charges exactly
 * these per rotation, so it cannot drift from the code.
 */
export async function rotationWrites(): Promise<RecordedWrite[]> {
  const log: RecordedWrite[] = [];
  const keyText = randomBytes(32).toString("base64");
  const keys = new RuntimeSecret("SALT_ENCRYPTION_KEY", () => keyText, 1, aesKeyText);
  const auditKey = new RuntimeSecret("AUDIT_KEY", () => "a".repeat(48), 1, auditKeyText);
  const now = new Date();
  const store = new FirestoreSaltStore(recordingFirestore(log), {
    clock: () => now,
    policy: () => DEFAULT_POLICY,
    retentionDays: () => 30,
    keys,
    auditKey,
  });
  const old = new Date(now.getTime() - 200 * 86_400_000);
  const plan = planCreate("user", "sim-user", old, DEFAULT_POLICY);
  const key = await keys.current();
  const handle: FirestoreHandle = {
    data: rawSaltDoc(plan.record, plan.salt, plan.shred, key, old),
    updateTime: Timestamp.fromDate(old),
  };
  const [outcome] = await store.rotateListed([
    {
      listed: { record: plan.record, handle },
      request: {
        rotationId: "sim-rotation",
        ifVersion: plan.record.version,
        onlyIfDue: true,
        audit: { actor: { uid: "sim", via: "task" }, operation: "rotate_user", correlation_id: "sim" },
      },
    },
  ]);
  if (outcome?.status !== "rotated") throw new Error(`the sample rotation answered ${outcome?.status}`);
  return log;
}
