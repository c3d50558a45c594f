import { randomUUID } from "node:crypto";
import { intervalsAudit, type AuditDraft, type AuditEntry } from "../../domain/audit";
import { chains, linkEntry, saltOfChain, type AuditKey, type ChainHead } from "../../domain/auditChain";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import { AUDIT_ONCE_TTL_MS } from "../../ports/saltStore";
import type {
  ActiveSettings,
  AuditContext,
  AuditQuery,
  AuditStore,
  ChainScanItem,
  Checkpoint,
  CheckpointStore,
  PageRequest,
  PendingSettings,
  SettingsStore,
  StoredSettings,
  SweepState,
} from "../../ports/saltStore";
import type { VersionedSecret } from "../../ports/secrets";
import type { MemoryState } from "./memoryState";

/** Appends `draft` to `chain` after `head` (within whatever atomic step the caller is in); returns the new head. */
export function appendLinked(
  state: MemoryState,
  draft: AuditDraft,
  now: Date,
  chain: string,
  head: ChainHead | null,
  key: AuditKey,
): { entry: AuditEntry; head: ChainHead } {
  const linked = linkEntry(draft, { id: randomUUID(), at: now }, chain, head, key);
  state.audit.push(structuredClone(linked.entry));
  return linked;
}

/** Appends to a chain whose head is kept apart from salts. */
export function appendToChain(
  state: MemoryState,
  draft: AuditDraft,
  now: Date,
  chain: string,
  key: AuditKey,
) {
  const linked = appendLinked(state, draft, now, chain, state.chainHeads.get(chain) ?? null, key);
  state.chainHeads.set(chain, linked.head);
  return linked.entry;
}

/** Checkpoints kept in memory (per process, like everything else here). */
export class MemoryCheckpoints implements CheckpointStore {
  private readonly finished: Checkpoint[] = [];
  private readonly pages = new Map<string, { chain: string; head: ChainHead }[]>();

  async putCheckpointPage(id: string, n: number, heads: { chain: string; head: ChainHead }[]): Promise<void> {
    await Promise.resolve();
    this.pages.set(
      `${id}/${n}`,
      heads.map((h) => ({ chain: h.chain, head: { ...h.head } })),
    );
  }

  async finishCheckpoint(checkpoint: Checkpoint): Promise<void> {
    await Promise.resolve();
    this.finished.push({ ...checkpoint });
  }

  async latestCheckpoints(limit: number): Promise<Checkpoint[]> {
    await Promise.resolve();
    return [...this.finished].sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, limit);
  }

  async checkpointPage(id: string, n: number): Promise<{ chain: string; head: ChainHead }[]> {
    await Promise.resolve();
    return this.pages.get(`${id}/${n}`) ?? [];
  }
}

export class MemoryAuditStore extends MemoryCheckpoints implements AuditStore {
  constructor(
    private readonly state: MemoryState,
    private readonly clock: () => Date,
    private readonly auditKey: VersionedSecret,
  ) {
    super();
  }

  async appendAudit(draft: AuditDraft, chain: string = chains.of(draft.target)): Promise<AuditEntry> {
    const key = await this.auditKey.current();
    return appendToChain(this.state, draft, this.clock(), chain, key);
  }

  async appendAuditOnce(
    draft: AuditDraft,
    onceKey: string,
    chain: string = chains.of(draft.target),
  ): Promise<AuditEntry | null> {
    const key = await this.auditKey.current();
    const now = this.clock();
    const until = this.state.auditOnce.get(onceKey);
    if (until && until > now) return null;
    this.state.auditOnce.set(onceKey, new Date(now.getTime() + AUDIT_ONCE_TTL_MS));
    return appendToChain(this.state, draft, now, chain, key);
  }

  async listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    await Promise.resolve();
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const rows = this.state.audit
      .filter(
        (e) =>
          (query.targetId === undefined || e.target.id === query.targetId) &&
          (query.operation === undefined || e.operation === query.operation) &&
          (query.result === undefined || e.result === query.result) &&
          (!query.from || Date.parse(e.at) >= query.from.getTime()) &&
          (!query.to || Date.parse(e.at) < query.to.getTime()),
      )
      .map((e) => ({ e, t: Date.parse(e.at) }))
      .sort((a, b) => b.t - a.t || (a.e.id < b.e.id ? 1 : a.e.id > b.e.id ? -1 : 0))
      .filter((r) => !after || r.t < after.t || (r.t === after.t && r.e.id < after.d));
    return toPage(
      rows.slice(0, query.limit + 1),
      query.limit,
      (r) => structuredClone(r.e),
      (r) => ({ t: r.t, d: r.e.id }),
    );
  }

  async scanChains(page: PageRequest & { chains?: string[] }): Promise<Page<ChainScanItem>> {
    await Promise.resolve();
    const after = page.cursor ? decodeCursor(page.cursor) : null;
    const key = (e: AuditEntry) => [e.integrity?.chain ?? "", e.integrity?.seq ?? 0] as const;
    const rows = this.state.audit
      .filter((e) => e.integrity && (!page.chains || page.chains.includes(e.integrity.chain)))
      .sort((a, b) => {
        const [ca, sa] = key(a);
        const [cb, sb] = key(b);
        return ca < cb ? -1 : ca > cb ? 1 : sa - sb;
      })
      .filter((e) => {
        if (!after) return true;
        const [c, s] = key(e);
        return c > after.d || (c === after.d && s > after.t);
      });
    return toPage(
      rows.slice(0, page.limit + 1),
      page.limit,
      (e) => ({ entry: structuredClone(e), docId: e.id }),
      (e) => ({ t: key(e)[1], d: key(e)[0] }),
    );
  }

  async headOf(chain: string): Promise<ChainHead | null> {
    await Promise.resolve();
    if (saltOfChain(chain)) {
      for (const stored of this.state.current.values())
        if (stored.chain.id === chain) return stored.chain.head;
    }
    return this.state.chainHeads.get(chain) ?? null;
  }

  async listChainHeads(page: PageRequest): Promise<Page<{ chain: string; head: ChainHead }>> {
    await Promise.resolve();
    const after = page.cursor ? decodeCursor(page.cursor).d : null;
    const rows = [...this.state.chainHeads.entries()]
      .map(([chain, head]) => ({ chain, head }))
      .sort((a, b) => (a.chain < b.chain ? -1 : 1))
      .filter((r) => after === null || r.chain > after);
    return toPage(
      rows.slice(0, page.limit + 1),
      page.limit,
      (r) => r,
      (r) => ({ t: 0, d: r.chain }),
    );
  }
}

export class MemorySettingsStore implements SettingsStore {
  constructor(
    private readonly state: MemoryState,
    private readonly clock: () => Date,
    private readonly auditKey: VersionedSecret,
  ) {}

  async readSettings(): Promise<StoredSettings> {
    await Promise.resolve();
    return structuredClone(this.state.settings);
  }

  async readSweepState(): Promise<SweepState> {
    await Promise.resolve();
    return { ...this.state.sweep };
  }

  async writeSweepState(state: SweepState): Promise<void> {
    await Promise.resolve();
    this.state.sweep = { ...state };
  }

  async writePendingSettings(pending: PendingSettings, audit: AuditContext): Promise<void> {
    const key = await this.auditKey.current();
    this.state.settings = { ...this.state.settings, pending: { ...pending } };
    const draft = intervalsAudit(audit, {
      pending_user_days: pending.user_days ?? null,
      pending_global_days: pending.global_days ?? null,
    });
    appendToChain(this.state, draft, this.clock(), chains.of(draft.target), key);
  }

  async activateSettings(
    intervals: { user_days: number; global_days: number },
    audit: AuditContext,
  ): Promise<ActiveSettings> {
    const key = await this.auditKey.current();
    const active = { ...intervals, reloaded_at: this.clock() };
    this.state.settings = { ...this.state.settings, active };
    const draft = intervalsAudit(audit, { ...intervals });
    appendToChain(this.state, draft, this.clock(), chains.of(draft.target), key);
    return { ...active };
  }
}
