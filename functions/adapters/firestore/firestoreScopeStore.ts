import {
  FieldPath,
  Timestamp,
  type DocumentReference,
  type Firestore,
  type Transaction,
} from "firebase-admin/firestore";
import type { AuditDraft } from "../../domain/audit";
import type { AuditKey } from "../../domain/auditChain";
import { openWith, saltAad, sealSalt, type EncryptedSalt } from "../../domain/encryption";
import { notFound } from "../../domain/errors";
import { encodeDocId } from "../../domain/ids";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import { guardRejects } from "../../domain/rotation";
import {
  isScopeDue,
  planScopeCreate,
  planScopeRotate,
  planScopeUpdate,
  scopeLocation,
  scopeNextRotation,
  type LoadedScope,
  type ScopeRecord,
  type ScopeSpec,
} from "../../domain/scope";
import { putScopeAudit, rewrapScopeAudit, rotateScopeAudit, scopeChain } from "../../domain/scopeAudit";
import type { BackendDeps } from "../../ports/backendDeps";
import { REQUEST_TTL_MS } from "../../ports/requestStore";
import type { AuditContext, IdempotencyRecord, PageRequest, Replayed } from "../../ports/saltStore";
import type {
  PutScopeOutcome,
  RotateScopeOutcome,
  RotateScopeRequest,
  ScopeStore,
  ScopeVersionInfo,
} from "../../ports/scopeStore";
import { commitGuarded, guarded } from "./errors";
import { appendLinked } from "./firestoreAudit";
import { docData, parseDoc, RECORD_FIELDS, recordSchema, ts, type ScopeDoc } from "./firestoreScopeSchema";
import { COLLECTIONS } from "./schema";

/**
 * Scopes in Firestore: one small document per scope (its retired versions inline: a scope rotates at
 * most daily and keeps them SALT_HISTORY_RETENTION_DAYS). Each change is one transaction with its
 * chained audit entry and request record.
 */
export class FirestoreScopeStore implements ScopeStore {
  constructor(
    private readonly db: Firestore,
    private readonly deps: BackendDeps,
    private readonly timeoutMs = 20_000,
  ) {}

  private ref(scopeId: string): DocumentReference {
    return this.db.collection(COLLECTIONS.scopes).doc(encodeDocId(scopeId));
  }

  /** Within a transaction, before any write: the request's first answer, if it was seen. */
  private async replay<O>(tx: Transaction, idem: IdempotencyRecord<O> | undefined): Promise<Replayed | null> {
    if (!idem) return null;
    const snap = await tx.get(this.db.collection(COLLECTIONS.requests).doc(idem.key));
    if (!snap.exists || (snap.get("expire_at") as Timestamp).toDate() <= this.deps.clock()) return null;
    return {
      status: "replayed",
      answer: JSON.parse(snap.get("answer") as string),
      sameRequest: snap.get("fingerprint") === idem.fingerprint,
    };
  }

  private remember<O>(tx: Transaction, idem: IdempotencyRecord<O> | undefined, outcome: O, now: Date): void {
    if (!idem) return;
    // An expired record (past 24 h, not yet deleted by TTL) is replaced; the transaction read it.
    tx.set(this.db.collection(COLLECTIONS.requests).doc(idem.key), {
      fingerprint: idem.fingerprint,
      answer: JSON.stringify(idem.answer(outcome)),
      created_at: ts(now),
      expire_at: Timestamp.fromMillis(now.getTime() + REQUEST_TTL_MS),
    });
  }

  /** One transaction: read the scope and the request record, decide, stage the entry, write. */
  private change<O>(
    operation: string,
    scopeId: string,
    idem: IdempotencyRecord<O> | undefined,
    decide: (
      current: { record: ScopeRecord; doc: ScopeDoc } | null,
      now: Date,
    ) => { outcome: O; write?: Record<string, unknown>; draft?: AuditDraft },
  ): Promise<O | Replayed> {
    return guarded(operation, this.timeoutMs, async (guard) => {
      const auditKey: AuditKey = await this.deps.auditKey.current();
      return commitGuarded(guard, () =>
        this.db.runTransaction(async (tx) => {
          const [snap, replayed] = await Promise.all([tx.get(this.ref(scopeId)), this.replay(tx, idem)]);
          if (replayed) return replayed;
          const now = this.deps.clock();
          const { outcome, write, draft } = decide(snap.exists ? parseDoc(snap.data()) : null, now);
          if (!draft || !write) return outcome;
          await appendLinked(this.db, tx, scopeChain(scopeId), draft, now, auditKey);
          tx.set(this.ref(scopeId), write);
          this.remember(tx, idem, outcome, now);
          return outcome;
        }),
      );
    });
  }

  async putScope(
    spec: ScopeSpec,
    audit: AuditContext,
    idempotency?: IdempotencyRecord<PutScopeOutcome>,
  ): Promise<PutScopeOutcome> {
    const key = await this.deps.keys.current();
    // The secret of a new scope is made and sealed before the transaction (a retry reuses it).
    const created = planScopeCreate(spec, this.deps.clock());
    const sealed = sealSalt(key, created.secret, saltAad(scopeLocation(spec.scope_id), 1));
    return this.change("putScope", spec.scope_id, idempotency, (current, now) => {
      const before = current?.record ?? null;
      const outcome: PutScopeOutcome = before
        ? { status: "updated", record: planScopeUpdate(before, spec) }
        : { status: "created", record: { ...created.record, ...createdAt(spec, now) } };
      const write = docData(outcome.record, current?.doc.secret ?? sealed, current?.doc.retained ?? [], now);
      return { outcome, write, draft: putScopeAudit(audit, outcome, before) };
    });
  }

  async rotateScope(scopeId: string, request: RotateScopeRequest): Promise<RotateScopeOutcome> {
    const key = await this.deps.keys.current();
    return this.change("rotateScope", scopeId, request.idempotency, (current, now) => {
      if (!current) {
        if (request.ifVersion === undefined && !request.onlyIfDue) throw notFound(`The scope "${scopeId}"`);
        return { outcome: { status: "skipped", reason: "missing", record: null } };
      }
      const { record, doc } = current;
      const rejected = guardRejects(record, request, now);
      if (rejected) return { outcome: { status: "skipped", reason: rejected, record } };
      const plan = planScopeRotate(record, now, this.deps.retentionDays(), request.rotationId);
      const secret = sealSalt(key, plan.secret, saltAad(scopeLocation(scopeId), plan.record.version));
      const retained = [
        { ...plan.retired, expire_at: plan.expiresAt, secret: doc.secret },
        ...doc.retained.filter((r) => r.expire_at > now),
      ];
      return {
        outcome: { status: "rotated", record: plan.record, rotationId: request.rotationId },
        write: docData(plan.record, secret, retained, now),
        draft: rotateScopeAudit(request, plan.record),
      };
    });
  }

  keyVersionsInUse(versions: number[]): Promise<number[]> {
    return guarded("scopeKeyVersions", this.timeoutMs, async () => {
      const snap = await this.db.collection(COLLECTIONS.scopes).select("key_versions").get();
      const used = new Set(snap.docs.flatMap((d) => (d.get("key_versions") as number[] | undefined) ?? []));
      return versions.filter((v) => used.has(v));
    });
  }

  async rewrapScopes(audit: AuditContext): Promise<number> {
    const key = await this.deps.keys.current();
    const ids = await guarded("rewrapScopes", this.timeoutMs, async () =>
      (await this.db.collection(COLLECTIONS.scopes).select("scope_id").get()).docs.map(
        (d) => d.get("scope_id") as string,
      ),
    );
    let n = 0;
    for (const id of ids) {
      const read = await guarded("rewrapScopes", this.timeoutMs, () => this.ref(id).get());
      if (!read.exists) continue;
      const { record, doc } = parseDoc(read.data());
      const all = [doc.secret, ...doc.retained.map((r) => r.secret)];
      if (all.every((e) => e.key_version === key.version)) continue;
      const aad = (v: number) => saltAad(scopeLocation(id), v);
      const again = async (enc: EncryptedSalt, v: number) =>
        enc.key_version === key.version
          ? enc
          : sealSalt(key, await openWith(this.deps.keys, enc, aad(v)), aad(v));
      const secret = await again(doc.secret, record.version);
      const retained = await Promise.all(
        doc.retained.map(async (r) => ({ ...r, secret: await again(r.secret, r.version) })),
      );
      const done = await this.change("rewrapScopes", id, undefined, (current, now) =>
        // Only what was read: a scope changed meanwhile (rotated) is left to the next run.
        current?.record.version !== record.version || current.doc.retained.length !== doc.retained.length
          ? { outcome: false }
          : {
              outcome: true,
              write: docData(current.record, secret, retained, now),
              draft: rewrapScopeAudit(audit, id, all, key.version),
            },
      );
      if (done === true) n++;
    }
    return n;
  }

  scope(scopeId: string): Promise<ScopeRecord | null> {
    return guarded("scope", this.timeoutMs, async () => {
      const snap = await this.ref(scopeId).get();
      return snap.exists ? parseDoc(snap.data()).record : null;
    });
  }

  loadScope(scopeId: string): Promise<LoadedScope | null> {
    return guarded("loadScope", this.timeoutMs, async () => {
      const snap = await this.ref(scopeId).get();
      if (!snap.exists) return null;
      const { record, doc } = parseDoc(snap.data());
      const aad = saltAad(scopeLocation(scopeId), record.version);
      return { record, secret: await openWith(this.deps.keys, doc.secret, aad) };
    });
  }

  scopeSecret(scopeId: string, version: number): Promise<Buffer | null> {
    return guarded("scopeSecret", this.timeoutMs, async () => {
      const snap = await this.ref(scopeId).get();
      if (!snap.exists) return null;
      const { record, doc } = parseDoc(snap.data());
      const now = this.deps.clock();
      const enc =
        record.version === version
          ? doc.secret
          : doc.retained.find((r) => r.version === version && r.expire_at > now)?.secret;
      return enc ? openWith(this.deps.keys, enc, saltAad(scopeLocation(scopeId), version)) : null;
    });
  }

  scopeHistory(scopeId: string): Promise<ScopeVersionInfo[]> {
    return guarded("scopeHistory", this.timeoutMs, async () => {
      const snap = await this.ref(scopeId).get();
      if (!snap.exists) return [];
      const now = this.deps.clock();
      return parseDoc(snap.data())
        .doc.retained.filter((r) => r.expire_at > now)
        .map((r) => ({ version: r.version, created_at: r.created_at, retired_at: r.retired_at }))
        .sort((a, b) => b.version - a.version);
    });
  }

  private page(operation: string, page: PageRequest, keep: (r: ScopeRecord) => boolean) {
    return guarded(operation, this.timeoutMs, async (): Promise<Page<ScopeRecord>> => {
      // Scopes are few: a page is read in id order (metadata only) and filtered here, no index needed.
      const rows: { id: string; record: ScopeRecord }[] = [];
      let after = page.cursor ? decodeCursor(page.cursor).d : null;
      for (;;) {
        let q = this.db
          .collection(COLLECTIONS.scopes)
          .select(...RECORD_FIELDS)
          .orderBy(FieldPath.documentId());
        if (after) q = q.startAfter(after);
        const snap = await q.limit(page.limit + 1).get();
        for (const d of snap.docs) {
          const record = recordSchema.parse(d.data());
          if (keep(record)) rows.push({ id: d.id, record });
        }
        if (rows.length > page.limit || snap.size <= page.limit) break;
        after = snap.docs.at(-1)!.id;
      }
      return toPage(
        rows,
        page.limit,
        (r) => r.record,
        (r) => ({ t: 0, d: r.id }),
      );
    });
  }

  listScopes(page: PageRequest): Promise<Page<ScopeRecord>> {
    return this.page("listScopes", page, () => true);
  }

  listDueScopes(page: PageRequest): Promise<Page<ScopeRecord>> {
    const now = this.deps.clock();
    return this.page("listDueScopes", page, (r) => isScopeDue(r, now));
  }

  async countDueScopes(): Promise<number> {
    let n = 0;
    let cursor: string | null = null;
    do {
      const page: Page<ScopeRecord> = await this.listDueScopes({ limit: 500, cursor });
      n += page.items.length;
      cursor = page.nextCursor;
    } while (cursor);
    return n;
  }
}

/** A new scope's times, from the commit's clock (its secret was made before the transaction). */
const createdAt = (spec: ScopeSpec, now: Date) => ({
  created_at: now,
  last_rotated: now,
  next_rotation: scopeNextRotation(now, spec.rotation_days),
});
