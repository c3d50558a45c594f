import type { Firestore } from "firebase-admin/firestore";
import type { BackendDeps } from "../ports/backendDeps";
import type { SaltBackend } from "../ports/saltBackend";
import { FirestoreSaltBackend } from "./firestore/firestoreBackend";
import { MemorySaltBackend } from "./memory/memoryBackend";

/** `SALT_BACKEND` picks the adapter; there is no silent fallback from one to the other. */
export function createSaltBackend(
  type: "firestore" | "memory",
  deps: BackendDeps,
  firestore: () => Firestore,
  options: { timeoutMs?: number } = {},
): SaltBackend {
  return type === "memory"
    ? new MemorySaltBackend(deps)
    : new FirestoreSaltBackend(firestore(), deps, options);
}
