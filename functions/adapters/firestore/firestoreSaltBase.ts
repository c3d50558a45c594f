import { randomBytes, randomUUID } from "node:crypto";
import type { DocumentReference, Firestore } from "firebase-admin/firestore";
import type { AuditDraft, AuditEntry } from "../../domain/audit";
import { linkEntry, type AuditKey, type ChainHead } from "../../domain/auditChain";
import { openWith, saltAad, shredAad } from "../../domain/encryption";
import { encodeDocId, type SaltKind } from "../../domain/ids";
import { saltLocation } from "../../domain/rotation";
import type { LoadedSalt } from "../../domain/salt";
import type { BackendDeps } from "../../ports/backendDeps";
import { guarded, type Guard } from "./errors";
import { COLLECTIONS, parseSaltDoc } from "./schema";
import { stageEntry, type CreateWriter } from "./firestoreAudit";
import type { OutboxEvent } from "../../domain/events";
import { stageEvent } from "./firestoreOutbox";

export interface FirestoreStoreOptions {
  /** Deadline for one storage operation before it is reported `unavailable`. */
  timeoutMs?: number;
}

/** A new, unguessable incarnation id: each salt created starts a chain of its own. */
export const newIncarnation = (): string => randomBytes(9).toString("base64url");

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

  protected chainRef(chain: string): DocumentReference {
    return this.db.collection(COLLECTIONS.chains).doc(chain);
  }

  protected run<T>(operation: string, fn: (guard: Guard) => Promise<T>): Promise<T> {
    return guarded(operation, this.timeoutMs, fn);
  }

  protected async auditKey(): Promise<AuditKey> {
    return this.deps.auditKey.current();
  }

  /** Decrypts a salt document's current salt (and a user's shred secret) with the key versions they name. */
  protected async open(kind: SaltKind, id: string, data: unknown): Promise<LoadedSalt> {
    const doc = parseSaltDoc(data);
    const location = saltLocation(kind, id);
    const [salt, shred] = await Promise.all([
      openWith(this.deps.keys, doc.salt, saltAad(location, doc.record.version)),
      doc.shred ? openWith(this.deps.keys, doc.shred, shredAad(location)) : null,
    ]);
    return { record: doc.record, salt, shred };
  }

  /** Stages `event` in the outbox on the writer of the change it tells of: one more document in the commit. */
  protected outbox(writer: CreateWriter, event: OutboxEvent, now: Date): void {
    stageEvent(this.db, writer, event, now);
  }

  /** After a commit that staged events: they are published soon (see usecases/events). */
  protected committed(keys: readonly string[]): void {
    if (keys.length > 0) this.deps.events?.committed(keys);
  }

  /** Stages `draft` as the next link of `chain` after `head` on the writer of the change it records. */
  protected link(
    writer: CreateWriter,
    draft: AuditDraft,
    at: Date,
    chain: string,
    head: ChainHead | null,
    key: AuditKey,
  ): { entry: AuditEntry; head: ChainHead } {
    return stageEntry(this.db, writer, linkEntry(draft, { id: randomUUID(), at }, chain, head, key));
  }
}
