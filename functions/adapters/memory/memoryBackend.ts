import { randomUUID } from "node:crypto";
import { intervalsAudit, type AuditDraft, type AuditEntry } from "../../domain/audit";
import type { EncryptedSalt } from "../../domain/encryption";
import { saltAad } from "../../domain/encryption";
import { notFound } from "../../domain/errors";
import { encodeDocId, type SaltKind } from "../../domain/ids";
import { dueCutoff } from "../../domain/policy";
import { guardRejects, planCreate, planRotate, saltLocation } from "../../domain/rotation";
import type { LoadedSalt, SaltRecord, SaltVersionInfo } from "../../domain/salt";
import { decodeCursor, encodeCursor, type BackendDeps } from "../../ports/backendDeps";
import type {
  AuditContext,
  AuditQuery,
  EraseOutcome,
  Page,
  RotateOutcome,
  RotateRequest,
  ActiveSettings,
  BatchRotateItem,
  ListedSalt,
  PendingSettings,
  SaltBackend,
  ScannedSalt,
  StoredSettings,
} from "../../ports/saltBackend";
import { MAX_BATCH_ROTATIONS } from "../../ports/saltBackend";

interface StoredCurrent {
  record: SaltRecord;
  enc: EncryptedSalt;
}

interface StoredVersion {
  info: SaltVersionInfo;
  enc: EncryptedSalt;
  expiresAt: Date;
}

const copyEnc = (e: EncryptedSalt): EncryptedSalt => ({
  ...e,
  iv: Buffer.from(e.iv),
  ct: Buffer.from(e.ct),
  tag: Buffer.from(e.tag),
});

/**
 * A faithful in-process backend: the same records, the same encryption at rest,
 * the same atomicity (every operation completes synchronously between awaits),
 * the same paging. State is per process, as it is per instance in production.
 */
export class MemorySaltBackend implements SaltBackend {
  readonly storageType = "memory" as const;
  private readonly current = new Map<string, StoredCurrent>();
  private readonly versions = new Map<string, Map<number, StoredVersion>>();
  private readonly audit: AuditEntry[] = [];
  private settings: StoredSettings = { pending: null, active: null };

  constructor(private readonly deps: BackendDeps) {}

  private key(kind: SaltKind, id: string): string {
    return saltLocation(kind, id);
  }

  private open(kind: SaltKind, id: string, stored: StoredCurrent): LoadedSalt {
    const salt = this.deps.cipher().decrypt(stored.enc, saltAad(this.key(kind, id), stored.record.version));
    return { record: { ...stored.record }, salt };
  }

  private auditEntry(draft: AuditDraft): AuditEntry {
    const entry: AuditEntry = { ...draft, id: randomUUID(), at: this.deps.clock().toISOString() };
    this.audit.push(structuredClone(entry));
    return entry;
  }

  async get(kind: SaltKind, id: string): Promise<LoadedSalt | null> {
    await Promise.resolve();
    const stored = this.current.get(this.key(kind, id));
    return stored ? this.open(kind, id, stored) : null;
  }

  async getOrCreate(
    kind: SaltKind,
    id: string,
    audit?: AuditContext,
  ): Promise<{ loaded: LoadedSalt; created: boolean }> {
    await Promise.resolve();
    const existing = this.current.get(this.key(kind, id));
    if (existing) return { loaded: this.open(kind, id, existing), created: false };
    const cipher = this.deps.cipher();
    const plan = planCreate(kind, id, this.deps.clock(), this.deps.policy());
    this.current.set(this.key(kind, id), {
      record: plan.record,
      enc: cipher.encrypt(plan.salt, saltAad(this.key(kind, id), 1)),
    });
    if (audit) this.auditEntry({ ...audit, target: { kind, id }, result: "success" });
    return { loaded: { record: { ...plan.record }, salt: plan.salt }, created: true };
  }

  async getVersion(kind: SaltKind, id: string, version: number): Promise<Buffer | null> {
    await Promise.resolve();
    const key = this.key(kind, id);
    const stored = this.current.get(key);
    if (!stored) return null;
    if (stored.record.version === version) return this.open(kind, id, stored).salt;
    const retired = this.versions.get(key)?.get(version);
    if (!retired || retired.expiresAt <= this.deps.clock()) return null;
    return this.deps.cipher().decrypt(retired.enc, saltAad(key, version));
  }

  async rotate(kind: SaltKind, id: string, request: RotateRequest): Promise<RotateOutcome> {
    await Promise.resolve();
    return this.rotateNow(kind, id, request);
  }

  /** Synchronous, so nothing can interleave with it. */
  private rotateNow(kind: SaltKind, id: string, request: RotateRequest): RotateOutcome {
    const key = this.key(kind, id);
    const cipher = this.deps.cipher();
    const now = this.deps.clock();
    const policy = this.deps.policy();
    const stored = this.current.get(key);
    const auditDraft: AuditDraft = {
      ...request.audit,
      target: { kind, id },
      result: "success",
      rotation_id: request.rotationId,
    };
    if (!stored) {
      if (request.ifVersion !== undefined || request.onlyIfDue) {
        return { status: "skipped", reason: "missing", record: null };
      }
      if (!request.force) throw notFound(`The ${kind} salt`);
      const plan = planCreate(kind, id, now, policy, request.rotationId);
      this.current.set(key, { record: plan.record, enc: cipher.encrypt(plan.salt, saltAad(key, 1)) });
      this.auditEntry(auditDraft);
      return { status: "created", record: { ...plan.record }, rotationId: request.rotationId };
    }
    const skip = guardRejects(stored.record, request, policy, now);
    if (skip) return { status: "skipped", reason: skip, record: { ...stored.record } };
    const plan = planRotate(stored.record, now, policy, this.deps.retentionDays(), request.rotationId);
    const history = this.versions.get(key) ?? new Map<number, StoredVersion>();
    history.set(plan.retired.version, {
      info: plan.retired,
      enc: copyEnc(stored.enc),
      expiresAt: plan.retiredExpiresAt,
    });
    this.versions.set(key, history);
    this.current.set(key, {
      record: plan.record,
      enc: cipher.encrypt(plan.salt, saltAad(key, plan.record.version)),
    });
    this.auditEntry(auditDraft);
    return { status: "rotated", record: { ...plan.record }, rotationId: request.rotationId };
  }

  async rotateMany(items: BatchRotateItem[]): Promise<RotateOutcome[]> {
    if (items.length > MAX_BATCH_ROTATIONS)
      throw new Error(`rotateMany takes at most ${MAX_BATCH_ROTATIONS} items`);
    // All or none, as in Firestore: nothing is applied if any item would throw.
    const snapshot = new Map(this.current);
    const versionsSnapshot = new Map([...this.versions].map(([k, v]) => [k, new Map(v)]));
    const auditLength = this.audit.length;
    try {
      const out: RotateOutcome[] = [];
      for (const item of items) out.push(this.rotateNow(item.kind, item.id, item.request));
      return out;
    } catch (e) {
      this.current.clear();
      for (const [k, v] of snapshot) this.current.set(k, v);
      this.versions.clear();
      for (const [k, v] of versionsSnapshot) this.versions.set(k, v);
      this.audit.length = auditLength;
      throw e;
    }
  }

  async listDueForRotation(
    kind: SaltKind,
    page: { limit: number; cursor?: string | null },
  ): Promise<Page<ListedSalt>> {
    const listed = await this.listDue(kind, page);
    return { items: listed.items.map((record) => ({ record, handle: null })), nextCursor: listed.nextCursor };
  }

  /** In memory the guarded path is as cheap as any: it is the one used. */
  rotateListed(items: { listed: ListedSalt; request: RotateRequest }[]): Promise<RotateOutcome[]> {
    return this.rotateMany(
      items.map(({ listed, request }) => ({ kind: listed.record.kind, id: listed.record.id, request })),
    );
  }

  async history(kind: SaltKind, id: string): Promise<SaltVersionInfo[]> {
    await Promise.resolve();
    const now = this.deps.clock();
    return [...(this.versions.get(this.key(kind, id))?.values() ?? [])]
      .filter((v) => v.expiresAt > now)
      .map((v) => ({ ...v.info }))
      .sort((a, b) => b.version - a.version);
  }

  async erase(kind: SaltKind, id: string, rotationId: string, audit: AuditContext): Promise<EraseOutcome> {
    await Promise.resolve();
    const key = this.key(kind, id);
    const stored = this.current.get(key);
    const retired = this.versions.get(key);
    const versionsDestroyed = (stored ? 1 : 0) + (retired?.size ?? 0);
    this.current.delete(key);
    this.versions.delete(key);
    this.auditEntry({
      ...audit,
      target: { kind, id },
      result: "success",
      rotation_id: rotationId,
      details: { versions_destroyed: versionsDestroyed },
    });
    return { erased: versionsDestroyed > 0, versionsDestroyed };
  }

  async count(kind: SaltKind): Promise<number> {
    await Promise.resolve();
    return [...this.current.values()].filter((s) => s.record.kind === kind).length;
  }

  private dueSorted(kind: SaltKind): { docId: string; record: SaltRecord }[] {
    const cutoff = dueCutoff(this.deps.policy(), kind, this.deps.clock()).getTime();
    return [...this.current.values()]
      .filter((s) => s.record.kind === kind && s.record.last_rotated.getTime() <= cutoff)
      .map((s) => ({ docId: encodeDocId(s.record.id), record: s.record }))
      .sort(
        (a, b) =>
          a.record.last_rotated.getTime() - b.record.last_rotated.getTime() ||
          (a.docId < b.docId ? -1 : a.docId > b.docId ? 1 : 0),
      );
  }

  async countDue(kind: SaltKind): Promise<number> {
    await Promise.resolve();
    return this.dueSorted(kind).length;
  }

  async listDue(kind: SaltKind, page: { limit: number; cursor?: string | null }): Promise<Page<SaltRecord>> {
    await Promise.resolve();
    const after = page.cursor ? decodeCursor(page.cursor) : null;
    const rows = this.dueSorted(kind).filter(
      (r) =>
        !after ||
        r.record.last_rotated.getTime() > after.t ||
        (r.record.last_rotated.getTime() === after.t && r.docId > after.d),
    );
    const items = rows.slice(0, page.limit);
    const last = items.at(-1);
    return {
      items: items.map((r) => ({ ...r.record })),
      nextCursor:
        rows.length > page.limit && last
          ? encodeCursor({ t: last.record.last_rotated.getTime(), d: last.docId })
          : null,
    };
  }

  async scan(kind: SaltKind, page: { limit: number; cursor?: string | null }): Promise<Page<ScannedSalt>> {
    await Promise.resolve();
    const after = page.cursor ? decodeCursor(page.cursor).d : null;
    const now = this.deps.clock();
    const rows = [...this.current.entries()]
      .filter(([, s]) => s.record.kind === kind)
      .map(([key, s]) => ({ key, docId: encodeDocId(s.record.id), s }))
      .sort((a, b) => (a.docId < b.docId ? -1 : a.docId > b.docId ? 1 : 0))
      .filter((r) => after === null || r.docId > after);
    const items = rows.slice(0, page.limit);
    const last = items.at(-1);
    return {
      items: items.map(({ key, s }) => {
        let decrypts = true;
        try {
          this.deps.cipher().decrypt(s.enc, saltAad(key, s.record.version));
        } catch {
          decrypts = false;
        }
        const prev = this.versions.get(key)?.get(s.record.version - 1);
        return {
          record: { ...s.record },
          decrypts,
          retainedPreviousHash: prev && prev.expiresAt > now ? prev.info.salt_hash_prefix : null,
        };
      }),
      nextCursor: rows.length > page.limit && last ? encodeCursor({ t: 0, d: last.docId }) : null,
    };
  }

  async repairNextRotation(kind: SaltKind, id: string, version: number, next: Date): Promise<boolean> {
    await Promise.resolve();
    const stored = this.current.get(this.key(kind, id));
    if (
      !stored ||
      stored.record.version !== version ||
      stored.record.next_rotation.getTime() === next.getTime()
    ) {
      return false;
    }
    stored.record = { ...stored.record, next_rotation: next };
    return true;
  }

  async purgeExpiredHistory(limit: number): Promise<number> {
    await Promise.resolve();
    const now = this.deps.clock();
    let purged = 0;
    for (const history of this.versions.values()) {
      for (const [version, v] of history) {
        if (purged >= limit) return purged;
        if (v.expiresAt <= now) {
          history.delete(version);
          purged++;
        }
      }
    }
    return purged;
  }

  async readSettings(): Promise<StoredSettings> {
    await Promise.resolve();
    return structuredClone(this.settings);
  }

  async writePendingSettings(pending: PendingSettings, audit: AuditContext): Promise<void> {
    await Promise.resolve();
    this.settings = { ...this.settings, pending: { ...pending } };
    this.auditEntry(
      intervalsAudit(audit, {
        pending_user_days: pending.user_days ?? null,
        pending_global_days: pending.global_days ?? null,
      }),
    );
  }

  async activateSettings(
    intervals: { user_days: number; global_days: number },
    audit: AuditContext,
  ): Promise<ActiveSettings> {
    await Promise.resolve();
    const active = { ...intervals, reloaded_at: this.deps.clock() };
    this.settings = { ...this.settings, active };
    this.auditEntry(
      intervalsAudit(audit, { user_days: intervals.user_days, global_days: intervals.global_days }),
    );
    return { ...active };
  }

  async appendAudit(draft: AuditDraft): Promise<AuditEntry> {
    await Promise.resolve();
    return this.auditEntry(draft);
  }

  async listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    await Promise.resolve();
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const rows = this.audit
      .filter(
        (e) =>
          (query.targetId === undefined || e.target.id === query.targetId) &&
          (query.operation === undefined || e.operation === query.operation),
      )
      .map((e) => ({ e, t: Date.parse(e.at) }))
      .sort((a, b) => b.t - a.t || (a.e.id < b.e.id ? 1 : a.e.id > b.e.id ? -1 : 0))
      .filter((r) => !after || r.t < after.t || (r.t === after.t && r.e.id < after.d));
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return {
      items: items.map((r) => structuredClone(r.e)),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ t: last.t, d: last.e.id }) : null,
    };
  }

  /** Test and demo hook: direct access to stored ciphertext, as an attacker with the database would have. */
  rawStore(): {
    current: Map<string, StoredCurrent>;
    versions: Map<string, Map<number, StoredVersion>>;
  } {
    return { current: this.current, versions: this.versions };
  }
}
