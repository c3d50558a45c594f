import { randomBytes, randomUUID } from "node:crypto";
import type { DocumentReference, DocumentSnapshot, Firestore, Transaction } from "firebase-admin/firestore";
import type { AuditDraft } from "../../domain/audit";
import {
  linkEntry,
  saltOfChain,
  type AuditKey,
  type ChainHead,
  type HeadBinding,
} from "../../domain/auditChain";
import { erasedIncarnation, openWith, saltAad, shredAad } from "../../domain/encryption";
import { encodeDocId, type SaltKind } from "../../domain/ids";
import { saltPlace } from "../../domain/rotation";
import type { LoadedSalt } from "../../domain/salt";
import type { BackendDeps } from "../../ports/backendDeps";
import { guarded, type Guard } from "./errors";
import { COLLECTIONS, parseSaltDoc } from "./schema";
import { stageEntry, type CreateWriter, type SealedLink } from "./firestoreAudit";
import type { OutboxEvent } from "../../domain/events";
import { stageEvent } from "./firestoreOutbox";

export interface FirestoreStoreOptions {
  /** Deadline for one storage operation before it is reported `unavailable`. */
  timeoutMs?: number;
}

/** A new, unguessable incarnation id: each salt created starts a chain of its own. */
export const newIncarnation = (): string => randomBytes(9).toString("base64url");

/** A salt document as read with the erasure record of its place. */
export interface SaltRead {
  snap: DocumentSnapshot;
  /** Incarnations erased at this place (`chainless`: a salt without a chain was erased there). */
  erased: { incarnations: string[]; chainless: boolean } | null;
}

/** A salt document and its place's erasure record, as read together. */
export function saltRead(snap: DocumentSnapshot, erased: DocumentSnapshot): SaltRead {
  const data = erased.exists ? erased.data() : null;
  return {
    snap,
    erased: data
      ? {
          incarnations: Array.isArray(data.incarnations) ? (data.incarnations as string[]) : [],
          chainless: data.chainless === true,
        }
      : null,
  };
}

/** Whether the salt document read is a copy of an incarnation that was erased (restored after the erasure). */
export function isErasedCopy(read: SaltRead): boolean {
  if (!read.snap.exists || !read.erased) return false;
  const chainId = (read.snap.get("chain") as { id?: unknown } | null | undefined)?.id;
  const incarnation = typeof chainId === "string" ? saltOfChain(chainId)?.incarnation : undefined;
  // This release never writes a salt without a chain: one found where a salt was erased is a restored copy.
  return incarnation === undefined ? true : read.erased.incarnations.includes(incarnation);
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

  /** The record of erased incarnations at a salt's place (`salts_erased/{kind}:{doc id}`). */
  protected erasedRef(kind: SaltKind, id: string): DocumentReference {
    return this.db.collection(COLLECTIONS.erased).doc(`${kind}:${encodeDocId(id)}`);
  }

  protected chainRef(chain: string): DocumentReference {
    return this.db.collection(COLLECTIONS.chains).doc(chain);
  }

  /** Reads a salt document and its place's erasure record in one round trip (in `tx` when given). */
  protected async readSalt(kind: SaltKind, id: string, tx?: Transaction): Promise<SaltRead> {
    const refs = [this.saltRef(kind, id), this.erasedRef(kind, id)] as const;
    const [snap, erased] = tx ? await tx.getAll(...refs) : await this.db.getAll(...refs);
    return saltRead(snap!, erased!);
  }

  protected run<T>(operation: string, fn: (guard: Guard) => Promise<T>): Promise<T> {
    return guarded(operation, this.timeoutMs, fn);
  }

  protected async auditKey(): Promise<AuditKey> {
    return this.deps.auditKey.current();
  }

  /**
   * Decrypts a salt document's current salt (and a user's shred secret) with the key versions they
   * name; a copy of an erased incarnation is refused before anything is decrypted.
   */
  protected async open(kind: SaltKind, id: string, read: SaltRead): Promise<LoadedSalt> {
    if (isErasedCopy(read)) throw erasedIncarnation();
    const doc = parseSaltDoc(read.snap.data());
    return this.openDoc(kind, id, doc);
  }

  protected async openDoc(
    kind: SaltKind,
    id: string,
    doc: ReturnType<typeof parseSaltDoc>,
  ): Promise<LoadedSalt> {
    const place = saltPlace(kind, id, doc.chain?.id);
    const [salt, shred] = await Promise.all([
      openWith(this.deps.keys, doc.salt, saltAad(place, doc.record.version)),
      doc.shred ? openWith(this.deps.keys, doc.shred, shredAad(place)) : null,
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
    bound: HeadBinding,
  ): SealedLink {
    return stageEntry(this.db, writer, linkEntry(draft, { id: randomUUID(), at }, chain, head, key, bound));
  }
}
