import type { DocumentReference, Firestore } from "firebase-admin/firestore";
import { saltAad } from "../../domain/encryption";
import { encodeDocId, type SaltKind } from "../../domain/ids";
import { saltLocation } from "../../domain/rotation";
import type { LoadedSalt } from "../../domain/salt";
import type { BackendDeps } from "../../ports/backendDeps";
import { guarded } from "./errors";
import { COLLECTIONS, parseSaltDoc } from "./schema";

export interface FirestoreStoreOptions {
  /** Deadline for one storage operation before it is reported `unavailable`. */
  timeoutMs?: number;
}

/** What the Firestore salt adapters share: the client, the injected deps, refs and the deadline. */
export abstract class FirestoreSaltBase {
  readonly storageType = "firestore" as const;
  protected readonly timeoutMs: number;

  constructor(
    protected readonly db: Firestore,
    protected readonly deps: BackendDeps,
    options: FirestoreStoreOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 20_000;
  }

  saltRef(kind: SaltKind, id: string): DocumentReference {
    return this.db.collection(COLLECTIONS[kind]).doc(encodeDocId(id));
  }

  protected run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return guarded(operation, this.timeoutMs, fn);
  }

  protected open(kind: SaltKind, id: string, data: unknown): LoadedSalt {
    const { record, enc } = parseSaltDoc(data);
    return { record, salt: this.deps.cipher().decrypt(enc, saltAad(saltLocation(kind, id), record.version)) };
  }
}
