import type { Firestore } from "firebase-admin/firestore";
import { FirestoreSaltStore } from "../../functions/adapters/firestore/firestoreSaltStore";
import type { SaltKind } from "../../functions/domain/ids";
import { DEFAULT_POLICY } from "../../functions/domain/policy";
import { runtimeSecrets } from "./runtimes";

/** A backend writing with the given key as if it were `daysAgo` days in the past. */
export function backendAt(db: Firestore, keyText: string, daysAgo: number): FirestoreSaltStore {
  const secrets = runtimeSecrets({ key: keyText });
  const at = () => new Date(Date.now() - daysAgo * 24 * 60 * 60 * 1000);
  return new FirestoreSaltStore(db, {
    clock: at,
    policy: () => DEFAULT_POLICY,
    retentionDays: () => 30,
    keys: secrets.keys,
    auditKey: secrets.auditKey,
  });
}

/** Creates salts that were last rotated `daysAgo` days ago (so they are due now). */
export async function seedSalts(
  db: Firestore,
  keyText: string,
  kind: SaltKind,
  ids: string[],
  daysAgo = 200,
  concurrency = 16,
): Promise<void> {
  const backend = backendAt(db, keyText, daysAgo);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ids.length) await backend.getOrCreate(kind, ids[next++]!);
    }),
  );
}
