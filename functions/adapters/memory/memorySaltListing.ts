import { saltOfChain } from "../../domain/auditChain";
import { erasedIncarnation, openWith, saltAad, shredAad } from "../../domain/encryption";
import { encodeDocId, type SaltKind } from "../../domain/ids";
import { decodeCursor, mapStream, pagedStream, toPage, type Page } from "../../domain/paging";
import { saltLocation } from "../../domain/rotation";
import type { LoadedSalt, SaltRecord, SaltVersionInfo } from "../../domain/salt";
import type { BackendDeps } from "../../ports/backendDeps";
import type { ListedSalt, PageRequest, ScannedSalt } from "../../ports/saltStore";
import { byDocId, MemoryState, type StoredCurrent } from "./memoryState";

type Row = { docId: string; key: string; stored: StoredCurrent };

/** Reads of the memory salt store: the same results, order and paging as Firestore's. */
export abstract class MemorySaltListing {
  readonly storageType = "memory" as const;

  constructor(
    protected readonly deps: BackendDeps,
    protected readonly state: MemoryState = new MemoryState(),
  ) {}

  /** Where the salt stored at `key` belongs: its location and incarnation. */
  protected place(key: string, stored: StoredCurrent) {
    return { location: key, incarnation: saltOfChain(stored.chain.id)?.incarnation ?? null };
  }

  /** Refuses a copy of an erased incarnation (one put back after the erasure). */
  protected refuseErased(key: string, stored: StoredCurrent): void {
    const erased = this.state.erased.get(key);
    const incarnation = saltOfChain(stored.chain.id)?.incarnation;
    if (erased && (incarnation === undefined || erased.incarnations.has(incarnation)))
      throw erasedIncarnation();
  }

  protected async open(key: string, stored: StoredCurrent): Promise<LoadedSalt> {
    this.refuseErased(key, stored);
    const place = this.place(key, stored);
    const [salt, shred] = await Promise.all([
      openWith(this.deps.keys, stored.enc, saltAad(place, stored.record.version)),
      stored.shred ? openWith(this.deps.keys, stored.shred, shredAad(place)) : null,
    ]);
    return { record: { ...stored.record }, salt, shred };
  }

  async get(kind: SaltKind, id: string): Promise<LoadedSalt | null> {
    const key = saltLocation(kind, id);
    const stored = this.state.current.get(key);
    return stored ? this.open(key, stored) : null;
  }

  async record(kind: SaltKind, id: string): Promise<SaltRecord | null> {
    await Promise.resolve();
    const stored = this.state.current.get(saltLocation(kind, id));
    return stored ? { ...stored.record } : null;
  }

  async getVersion(kind: SaltKind, id: string, version: number): Promise<Buffer | null> {
    const key = saltLocation(kind, id);
    const stored = this.state.current.get(key);
    if (!stored) return null;
    if (stored.record.version === version) return (await this.open(key, stored)).salt;
    this.refuseErased(key, stored);
    const retired = this.state.versions.get(key)?.get(version);
    if (!retired || retired.expiresAt <= this.deps.clock()) return null;
    return openWith(this.deps.keys, retired.enc, saltAad(this.place(key, stored), version));
  }

  async history(kind: SaltKind, id: string): Promise<SaltVersionInfo[]> {
    await Promise.resolve();
    const now = this.deps.clock();
    return [...(this.state.versions.get(saltLocation(kind, id))?.values() ?? [])]
      .filter((v) => v.expiresAt > now)
      .map((v) => ({ ...v.info }))
      .sort((a, b) => b.version - a.version);
  }

  protected rows(kind: SaltKind, filter: (s: StoredCurrent) => boolean = () => true): Row[] {
    return [...this.state.current.entries()]
      .filter(([, s]) => s.record.kind === kind && filter(s))
      .map(([key, stored]) => ({ key, stored, docId: encodeDocId(stored.record.id) }))
      .sort((a, b) => byDocId(a.docId, b.docId));
  }

  /** Rows in document order after the cursor, as a page. */
  protected docPage<T>(rows: Row[], page: PageRequest, map: (r: Row) => T): Page<T> {
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

  async keyVersionsInUse(kind: SaltKind, versions: number[]): Promise<number[]> {
    await Promise.resolve();
    const used = new Set(this.rows(kind).flatMap((r) => r.stored.keyVersions));
    return versions.filter((v) => used.has(v));
  }

  private needsRewrap = (current: number) => (s: StoredCurrent) => s.keyVersions.some((v) => v < current);

  async countNeedingRewrap(kind: SaltKind, current: number): Promise<number> {
    await Promise.resolve();
    return this.rows(kind, this.needsRewrap(current)).length;
  }

  async listNeedingRewrap(kind: SaltKind, current: number, page: PageRequest): Promise<Page<SaltRecord>> {
    await Promise.resolve();
    return this.docPage(this.rows(kind, this.needsRewrap(current)), page, (r) => ({ ...r.stored.record }));
  }

  private dueRows(kind: SaltKind, from: number, to: number): Row[] {
    const at = (r: Row) => r.stored.record.next_rotation.getTime();
    return this.rows(kind)
      .filter((r) => at(r) >= from && at(r) < to)
      .sort((a, b) => at(a) - at(b) || byDocId(a.docId, b.docId));
  }

  async countDue(kind: SaltKind): Promise<number> {
    await Promise.resolve();
    return this.dueRows(kind, -Infinity, this.deps.clock().getTime() + 1).length;
  }

  async countDueBetween(kind: SaltKind, from: Date, to: Date): Promise<number> {
    await Promise.resolve();
    return this.dueRows(kind, from.getTime(), to.getTime()).length;
  }

  async listDue(kind: SaltKind, page: PageRequest): Promise<Page<SaltRecord>> {
    await Promise.resolve();
    const after = page.cursor ? decodeCursor(page.cursor) : null;
    const at = (r: Row) => r.stored.record.next_rotation.getTime();
    const rows = this.dueRows(kind, -Infinity, this.deps.clock().getTime() + 1).filter(
      (r) => !after || at(r) > after.t || (at(r) === after.t && r.docId > after.d),
    );
    return toPage(
      rows.slice(0, page.limit + 1),
      page.limit,
      (r) => ({ ...r.stored.record }),
      (r) => ({ t: at(r), d: r.docId }),
    );
  }

  dueForRotation(kind: SaltKind, limit: number): AsyncGenerator<ListedSalt> {
    const records = pagedStream((page) => this.listDue(kind, page), limit, 500);
    return mapStream(records, (record) => ({ record, handle: null }));
  }

  async scan(kind: SaltKind, page: PageRequest): Promise<Page<ScannedSalt>> {
    const now = this.deps.clock();
    const rows = this.docPage(this.rows(kind), page, (r) => r);
    const items = await Promise.all(
      rows.items.map(async ({ key, stored }): Promise<ScannedSalt> => {
        let problem: string | null = null;
        try {
          await this.open(key, stored);
        } catch (e) {
          problem = (e as Error).message;
        }
        const prev = this.state.versions.get(key)?.get(stored.record.version - 1);
        return {
          record: { ...stored.record },
          decrypts: problem === null,
          ...(problem ? { decryptProblem: problem } : {}),
          keyVersions: [...stored.keyVersions],
          retainedPreviousHash: prev && prev.expiresAt > now ? prev.info.salt_hash_prefix : null,
          chain: { ...stored.chain },
          legacy: false,
        };
      }),
    );
    return { items, nextCursor: rows.nextCursor };
  }

  async repairNextRotation(kind: SaltKind, id: string, version: number, next: Date): Promise<boolean> {
    await Promise.resolve();
    const stored = this.state.current.get(saltLocation(kind, id));
    if (!stored || stored.record.version !== version) return false;
    if (stored.record.next_rotation.getTime() === next.getTime()) return false;
    stored.record = { ...stored.record, next_rotation: next };
    return true;
  }

  /** Memory holds nothing from an earlier release. */
  async upgradeLegacy(): Promise<boolean> {
    await Promise.resolve();
    return false;
  }

  async backfillAuditShards(): Promise<{ updated: number; next: string | null }> {
    await Promise.resolve();
    return { updated: 0, next: null };
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
