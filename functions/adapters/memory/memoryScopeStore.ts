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
import { appendToChain } from "./memoryAudit";
import { byDocId, MemoryState, type StoredScope } from "./memoryState";

/** Scopes in process memory: the same records, encryption, audit entries and atomicity as Firestore's. */
export class MemoryScopeStore implements ScopeStore {
  constructor(
    private readonly deps: BackendDeps,
    private readonly state: MemoryState = new MemoryState(),
  ) {}

  private replay<O>(idem: IdempotencyRecord<O> | undefined): Replayed | null {
    const found = idem ? this.state.requests.get(idem.key) : undefined;
    if (!found || found.expiresAt <= this.deps.clock()) return null;
    return {
      status: "replayed",
      answer: JSON.parse(found.answer),
      sameRequest: found.fingerprint === idem!.fingerprint,
    };
  }

  private remember<O>(idem: IdempotencyRecord<O> | undefined, outcome: O, now: Date): void {
    if (!idem) return;
    this.state.requests.set(idem.key, {
      fingerprint: idem.fingerprint,
      answer: JSON.stringify(idem.answer(outcome)),
      expiresAt: new Date(now.getTime() + REQUEST_TTL_MS),
    });
  }

  async putScope(
    spec: ScopeSpec,
    audit: AuditContext,
    idempotency?: IdempotencyRecord<PutScopeOutcome>,
  ): Promise<PutScopeOutcome> {
    const [key, auditKey] = await Promise.all([this.deps.keys.current(), this.deps.auditKey.current()]);
    // Synchronous from here on: nothing interleaves.
    const replayed = this.replay(idempotency);
    if (replayed) return replayed;
    const now = this.deps.clock();
    const stored = this.state.scopes.get(spec.scope_id);
    let outcome: PutScopeOutcome;
    if (stored) {
      const record = planScopeUpdate(stored.record, spec);
      this.state.scopes.set(spec.scope_id, { ...stored, record });
      outcome = { status: "updated", record };
    } else {
      const { record, secret } = planScopeCreate(spec, now);
      const enc = sealSalt(key, secret, saltAad(scopeLocation(spec.scope_id), 1));
      this.state.scopes.set(spec.scope_id, { record, secret: enc, retained: [] });
      outcome = { status: "created", record };
    }
    const draft = putScopeAudit(audit, outcome, stored?.record ?? null);
    appendToChain(this.state, draft, now, scopeChain(spec.scope_id), auditKey);
    this.remember(idempotency, outcome, now);
    return outcome;
  }

  async scope(scopeId: string): Promise<ScopeRecord | null> {
    await Promise.resolve();
    return this.state.scopes.get(scopeId)?.record ?? null;
  }

  async loadScope(scopeId: string): Promise<LoadedScope | null> {
    const stored = this.state.scopes.get(scopeId);
    if (!stored) return null;
    const aad = saltAad(scopeLocation(scopeId), stored.record.version);
    return { record: stored.record, secret: await openWith(this.deps.keys, stored.secret, aad) };
  }

  async scopeSecret(scopeId: string, version: number): Promise<Buffer | null> {
    const stored = this.state.scopes.get(scopeId);
    if (!stored) return null;
    const now = this.deps.clock();
    const enc =
      stored.record.version === version
        ? stored.secret
        : stored.retained.find((r) => r.version === version && r.expiresAt > now)?.secret;
    return enc ? openWith(this.deps.keys, enc, saltAad(scopeLocation(scopeId), version)) : null;
  }

  async scopeHistory(scopeId: string): Promise<ScopeVersionInfo[]> {
    await Promise.resolve();
    const now = this.deps.clock();
    return (this.state.scopes.get(scopeId)?.retained ?? [])
      .filter((r) => r.expiresAt > now)
      .map((r) => ({ version: r.version, created_at: r.created_at, retired_at: r.retired_at }))
      .sort((a, b) => b.version - a.version);
  }

  private page(page: PageRequest, keep: (s: StoredScope) => boolean): Page<ScopeRecord> {
    const after = page.cursor ? decodeCursor(page.cursor).d : null;
    const rows = [...this.state.scopes.values()]
      .map((s) => ({ docId: encodeDocId(s.record.scope_id), s }))
      .filter((r) => (after === null || byDocId(r.docId, after) > 0) && keep(r.s))
      .sort((a, b) => byDocId(a.docId, b.docId));
    return toPage(
      rows.slice(0, page.limit + 1),
      page.limit,
      (r) => r.s.record,
      (r) => ({ t: 0, d: r.docId }),
    );
  }

  async listScopes(page: PageRequest): Promise<Page<ScopeRecord>> {
    await Promise.resolve();
    return this.page(page, () => true);
  }

  async listDueScopes(page: PageRequest): Promise<Page<ScopeRecord>> {
    await Promise.resolve();
    const now = this.deps.clock();
    return this.page(page, (s) => isScopeDue(s.record, now));
  }

  async countDueScopes(): Promise<number> {
    await Promise.resolve();
    const now = this.deps.clock();
    return [...this.state.scopes.values()].filter((s) => isScopeDue(s.record, now)).length;
  }

  async keyVersionsInUse(versions: number[]): Promise<number[]> {
    await Promise.resolve();
    const used = new Set<number>();
    for (const s of this.state.scopes.values())
      for (const enc of [s.secret, ...s.retained.map((r) => r.secret)]) used.add(enc.key_version);
    return versions.filter((v) => used.has(v));
  }

  async rewrapScopes(audit: AuditContext): Promise<number> {
    const [key, auditKey] = await Promise.all([this.deps.keys.current(), this.deps.auditKey.current()]);
    let n = 0;
    for (const [scopeId, stored] of [...this.state.scopes]) {
      const all = [stored.secret, ...stored.retained.map((r) => r.secret)];
      if (all.every((e) => e.key_version === key.version)) continue;
      const location = scopeLocation(scopeId);
      const again = async (enc: EncryptedSalt, version: number) =>
        enc.key_version === key.version
          ? enc
          : sealSalt(
              key,
              await openWith(this.deps.keys, enc, saltAad(location, version)),
              saltAad(location, version),
            );
      const secret = await again(stored.secret, stored.record.version);
      const retained = await Promise.all(
        stored.retained.map(async (r) => ({ ...r, secret: await again(r.secret, r.version) })),
      );
      // Applied only if nothing changed the scope meanwhile (a rotation re-seals under the current key anyway).
      if (this.state.scopes.get(scopeId) !== stored) continue;
      this.state.scopes.set(scopeId, { ...stored, secret, retained });
      appendToChain(
        this.state,
        rewrapScopeAudit(audit, scopeId, all, key.version),
        this.deps.clock(),
        scopeChain(scopeId),
        auditKey,
      );
      n++;
    }
    return n;
  }

  async rotateScope(scopeId: string, request: RotateScopeRequest): Promise<RotateScopeOutcome> {
    const [key, auditKey] = await Promise.all([this.deps.keys.current(), this.deps.auditKey.current()]);
    const replayed = this.replay(request.idempotency);
    if (replayed) return replayed;
    const now = this.deps.clock();
    const stored = this.state.scopes.get(scopeId);
    const guarded = request.ifVersion !== undefined || request.onlyIfDue === true;
    if (!stored) {
      if (!guarded) throw notFound(`The scope "${scopeId}"`);
      return { status: "skipped", reason: "missing", record: null };
    }
    const rejected = guardRejects(stored.record, request, now);
    if (rejected) return { status: "skipped", reason: rejected, record: stored.record };
    const plan = planScopeRotate(stored.record, now, this.deps.retentionDays(), request.rotationId);
    const location = scopeLocation(scopeId);
    this.state.scopes.set(scopeId, {
      record: plan.record,
      secret: sealSalt(key, plan.secret, saltAad(location, plan.record.version)),
      retained: [
        { ...plan.retired, expiresAt: plan.expiresAt, secret: stored.secret },
        ...stored.retained.filter((r) => r.expiresAt > now),
      ],
    });
    appendToChain(this.state, rotateScopeAudit(request, plan.record), now, scopeChain(scopeId), auditKey);
    const outcome: RotateScopeOutcome = {
      status: "rotated",
      record: plan.record,
      rotationId: request.rotationId,
    };
    this.remember(request.idempotency, outcome, now);
    return outcome;
  }
}
