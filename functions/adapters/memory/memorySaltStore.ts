import { saltAad } from "../../domain/encryption";
import { encodeDocId, type SaltKind } from "../../domain/ids";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import { dueCutoff } from "../../domain/policy";
import { decideRotation, planCreate, saltLocation } from "../../domain/rotation";
import type { LoadedSalt, SaltRecord, SaltVersionInfo } from "../../domain/salt";
import type { BackendDeps } from "../../ports/backendDeps";
import type {
  AuditContext,
  BatchRotateItem,
  EraseOutcome,
  ListedSalt,
  PageRequest,
  RotateOutcome,
  RotateRequest,
  SaltStore,
  ScannedSalt,
} from "../../ports/saltStore";
import { MAX_BATCH_ROTATIONS } from "../../ports/saltStore";
import { appendEntry } from "./memoryAudit";
import { byDocId, copyEnc, MemoryState, type StoredCurrent, type StoredVersion } from "./memoryState";

type Row = { docId: string; key: string; stored: StoredCurrent };

/**
 * A faithful in-process salt store: the same records, the same encryption at
 * rest, the same atomicity (every change completes synchronously between
 * awaits), the same paging. State is per process, as it is per instance.
 */
export class MemorySaltStore implements SaltStore {
  readonly storageType = "memory" as const;

  constructor(
    private readonly deps: BackendDeps,
    private readonly state: MemoryState = new MemoryState(),
  ) {}

  private open(key: string, stored: StoredCurrent): LoadedSalt {
    const salt = this.deps.cipher().decrypt(stored.enc, saltAad(key, stored.record.version));
    return { record: { ...stored.record }, salt };
  }

  async get(kind: SaltKind, id: string): Promise<LoadedSalt | null> {
    await Promise.resolve();
    const key = saltLocation(kind, id);
    const stored = this.state.current.get(key);
    return stored ? this.open(key, stored) : null;
  }

  async getOrCreate(
    kind: SaltKind,
    id: string,
    audit?: AuditContext,
  ): Promise<{ loaded: LoadedSalt; created: boolean }> {
    await Promise.resolve();
    const key = saltLocation(kind, id);
    const existing = this.state.current.get(key);
    if (existing) return { loaded: this.open(key, existing), created: false };
    const now = this.deps.clock();
    const cipher = this.deps.cipher();
    const { record, salt } = planCreate(kind, id, now, this.deps.policy());
    this.state.current.set(key, { record, enc: cipher.encrypt(salt, saltAad(key, 1)) });
    if (audit) appendEntry(this.state, { ...audit, target: { kind, id }, result: "success" }, now);
    return { loaded: { record: { ...record }, salt }, created: true };
  }

  async getVersion(kind: SaltKind, id: string, version: number): Promise<Buffer | null> {
    await Promise.resolve();
    const key = saltLocation(kind, id);
    const stored = this.state.current.get(key);
    if (!stored) return null;
    if (stored.record.version === version) return this.open(key, stored).salt;
    const retired = this.state.versions.get(key)?.get(version);
    if (!retired || retired.expiresAt <= this.deps.clock()) return null;
    return this.deps.cipher().decrypt(retired.enc, saltAad(key, version));
  }

  private context(now: Date) {
    return { now, policy: this.deps.policy(), retentionDays: this.deps.retentionDays() };
  }

  /** Synchronous, so nothing can interleave with it. */
  private rotateNow(kind: SaltKind, id: string, request: RotateRequest): RotateOutcome {
    const key = saltLocation(kind, id);
    const now = this.deps.clock();
    const stored = this.state.current.get(key);
    const decision = decideRotation(kind, id, stored?.record ?? null, request, this.context(now));
    if (decision.type === "skip") {
      return { status: "skipped", reason: decision.reason, record: stored ? { ...stored.record } : null };
    }
    const { record, salt } = decision.plan;
    if (decision.type === "rotate" && stored) {
      const history = this.state.versions.get(key) ?? new Map<number, StoredVersion>();
      const { retired, retiredExpiresAt } = decision.plan;
      history.set(retired.version, { info: retired, enc: copyEnc(stored.enc), expiresAt: retiredExpiresAt });
      this.state.versions.set(key, history);
    }
    const enc = this.deps.cipher().encrypt(salt, saltAad(key, record.version));
    this.state.current.set(key, { record, enc });
    appendEntry(
      this.state,
      { ...request.audit, target: { kind, id }, result: "success", rotation_id: request.rotationId },
      now,
    );
    const status = decision.type === "create" ? "created" : "rotated";
    return { status, record: { ...record }, rotationId: request.rotationId };
  }

  async rotate(kind: SaltKind, id: string, request: RotateRequest): Promise<RotateOutcome> {
    await Promise.resolve();
    return this.rotateNow(kind, id, request);
  }

  async rotateMany(items: BatchRotateItem[]): Promise<RotateOutcome[]> {
    if (items.length > MAX_BATCH_ROTATIONS) {
      throw new Error(`rotateMany takes at most ${MAX_BATCH_ROTATIONS} items`);
    }
    await Promise.resolve();
    // All or none, as in Firestore: nothing is applied if any item throws.
    return this.state.atomically(() => items.map((i) => this.rotateNow(i.kind, i.id, i.request)));
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
    return [...(this.state.versions.get(saltLocation(kind, id))?.values() ?? [])]
      .filter((v) => v.expiresAt > now)
      .map((v) => ({ ...v.info }))
      .sort((a, b) => b.version - a.version);
  }

  async erase(kind: SaltKind, id: string, rotationId: string, audit: AuditContext): Promise<EraseOutcome> {
    await Promise.resolve();
    const key = saltLocation(kind, id);
    const versionsDestroyed =
      (this.state.current.has(key) ? 1 : 0) + (this.state.versions.get(key)?.size ?? 0);
    this.state.current.delete(key);
    this.state.versions.delete(key);
    appendEntry(
      this.state,
      {
        ...audit,
        target: { kind, id },
        result: "success",
        rotation_id: rotationId,
        details: { versions_destroyed: versionsDestroyed },
      },
      this.deps.clock(),
    );
    return { erased: versionsDestroyed > 0, versionsDestroyed };
  }

  private rows(kind: SaltKind): Row[] {
    return [...this.state.current.entries()]
      .filter(([, s]) => s.record.kind === kind)
      .map(([key, stored]) => ({ key, stored, docId: encodeDocId(stored.record.id) }))
      .sort((a, b) => byDocId(a.docId, b.docId));
  }

  /** Rows in document order after the cursor, as a page. */
  private docPage<T>(rows: Row[], page: PageRequest, map: (r: Row) => T): Page<T> {
    const after = page.cursor ? decodeCursor(page.cursor).d : null;
    const rest = rows.filter((r) => after === null || r.docId > after);
    return toPage(rest.slice(0, page.limit + 1), page.limit, map, (r) => ({ t: 0, d: r.docId }));
  }

  async count(kind: SaltKind): Promise<number> {
    await Promise.resolve();
    return this.rows(kind).length;
  }

  async list(kind: SaltKind, page: PageRequest): Promise<Page<SaltRecord>> {
    await Promise.resolve();
    return this.docPage(this.rows(kind), page, (r) => ({ ...r.stored.record }));
  }

  private dueRows(kind: SaltKind): Row[] {
    const cutoff = dueCutoff(this.deps.policy(), kind, this.deps.clock()).getTime();
    const at = (r: Row) => r.stored.record.last_rotated.getTime();
    return this.rows(kind)
      .filter((r) => at(r) <= cutoff)
      .sort((a, b) => at(a) - at(b) || byDocId(a.docId, b.docId));
  }

  async countDue(kind: SaltKind): Promise<number> {
    await Promise.resolve();
    return this.dueRows(kind).length;
  }

  async listDue(kind: SaltKind, page: PageRequest): Promise<Page<SaltRecord>> {
    await Promise.resolve();
    const after = page.cursor ? decodeCursor(page.cursor) : null;
    const at = (r: Row) => r.stored.record.last_rotated.getTime();
    const rows = this.dueRows(kind).filter(
      (r) => !after || at(r) > after.t || (at(r) === after.t && r.docId > after.d),
    );
    return toPage(
      rows.slice(0, page.limit + 1),
      page.limit,
      (r) => ({ ...r.stored.record }),
      (r) => ({ t: at(r), d: r.docId }),
    );
  }

  async listDueForRotation(kind: SaltKind, page: PageRequest): Promise<Page<ListedSalt>> {
    const listed = await this.listDue(kind, page);
    return { items: listed.items.map((record) => ({ record, handle: null })), nextCursor: listed.nextCursor };
  }

  async scan(kind: SaltKind, page: PageRequest): Promise<Page<ScannedSalt>> {
    await Promise.resolve();
    const now = this.deps.clock();
    return this.docPage(this.rows(kind), page, ({ key, stored }) => {
      let decrypts = true;
      try {
        this.deps.cipher().decrypt(stored.enc, saltAad(key, stored.record.version));
      } catch {
        decrypts = false;
      }
      const prev = this.state.versions.get(key)?.get(stored.record.version - 1);
      return {
        record: { ...stored.record },
        decrypts,
        retainedPreviousHash: prev && prev.expiresAt > now ? prev.info.salt_hash_prefix : null,
      };
    });
  }

  async repairNextRotation(kind: SaltKind, id: string, version: number, next: Date): Promise<boolean> {
    await Promise.resolve();
    const stored = this.state.current.get(saltLocation(kind, id));
    if (!stored || stored.record.version !== version) return false;
    if (stored.record.next_rotation.getTime() === next.getTime()) return false;
    stored.record = { ...stored.record, next_rotation: next };
    return true;
  }

  async purgeExpiredHistory(limit: number): Promise<number> {
    await Promise.resolve();
    const now = this.deps.clock();
    let purged = 0;
    for (const history of this.state.versions.values()) {
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
}
