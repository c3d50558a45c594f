import { randomUUID } from "node:crypto";
import { intervalsAudit, type AuditDraft, type AuditEntry } from "../../domain/audit";
import {
  bindings,
  chains,
  linkEntry,
  saltOfChain,
  sealHead,
  type AuditKey,
  type ChainHead,
  type HeadBinding,
  type SealedHead,
} from "../../domain/auditChain";
import { encodeDocId, SALT_KINDS } from "../../domain/ids";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import { saltLocation } from "../../domain/rotation";
import { AUDIT_ONCE_TTL_MS } from "../../ports/saltStore";
import type {
  ActiveSettings,
  AuditContext,
  AuditQuery,
  AuditStore,
  ChainScanItem,
  HeadRecord,
  PageRequest,
  PendingSettings,
  SettingsStore,
  StoredEntry,
  StoredSettings,
  SweepState,
} from "../../ports/saltStore";
import type { VersionedSecret } from "../../ports/secrets";
import { MemoryCheckpoints } from "./memoryCheckpoints";
import type { MemoryState } from "./memoryState";

/** Appends `draft` to `chain` after `head` (within whatever atomic step the caller is in); returns the new head. */
export function appendLinked(
  state: MemoryState,
  draft: AuditDraft,
  now: Date,
  chain: string,
  head: ChainHead | null,
  key: AuditKey,
  bound: HeadBinding,
): { entry: AuditEntry; head: SealedHead } {
  const linked = linkEntry(draft, { id: randomUUID(), at: now }, chain, head, key, bound);
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
  const linked = appendLinked(
    state,
    draft,
    now,
    chain,
    state.chainHeads.get(chain) ?? null,
    key,
    bindings.log,
  );
  state.chainHeads.set(chain, linked.head);
  return linked.entry;
}

const byId = (a: AuditEntry, b: AuditEntry) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class MemoryAuditStore extends MemoryCheckpoints implements AuditStore {
  constructor(
    state: MemoryState,
    private readonly clock: () => Date,
    private readonly auditKey: VersionedSecret,
  ) {
    super(state);
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
      .filter((e) => e.integrity?.seq && (!page.chains || page.chains.includes(e.integrity.chain)))
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

  async scanEntries(page: PageRequest & { targetId?: string }): Promise<Page<StoredEntry>> {
    await Promise.resolve();
    const after = page.cursor ? decodeCursor(page.cursor).d : null;
    const rows = this.state.audit
      .filter((e) => page.targetId === undefined || e.target?.id === page.targetId)
      .filter((e) => after === null || e.id > after)
      .sort(byId);
    return toPage(
      rows.slice(0, page.limit + 1),
      page.limit,
      (e) => ({ docId: e.id, entry: structuredClone(e) }),
      (e) => ({ t: 0, d: e.id }),
    );
  }

  private chainDocHead(chain: string, head: SealedHead): HeadRecord {
    return { chain, head: { ...head }, bound: saltOfChain(chain) ? bindings.erased : bindings.log };
  }

  async headOf(chain: string): Promise<HeadRecord | null> {
    await Promise.resolve();
    if (saltOfChain(chain)) {
      for (const stored of this.state.current.values())
        if (stored.chain.id === chain && stored.chain.head)
          return { chain, head: { ...stored.chain.head }, bound: bindings.live(stored.record) };
    }
    const head = this.state.chainHeads.get(chain);
    return head ? this.chainDocHead(chain, head) : null;
  }

  async sealLegacyHead(record: HeadRecord, key: AuditKey): Promise<boolean> {
    const found = await this.headOf(record.chain);
    const { head } = record;
    if (!found || found.head.auth !== undefined || found.head.seq !== head.seq || found.head.mac !== head.mac)
      return false;
    const sealed = sealHead(record.chain, head, found.bound, key);
    const live = [...this.state.current.values()].find((s) => s.chain.id === record.chain);
    if (live) live.chain.head = sealed;
    else this.state.chainHeads.set(record.chain, sealed);
    return true;
  }

  async chainsHeldFor(targetId: string): Promise<string[]> {
    await Promise.resolve();
    const enc = encodeDocId(targetId);
    const found = new Set<string>();
    for (const kind of SALT_KINDS) {
      const live = this.state.current.get(saltLocation(kind, targetId));
      if (live) found.add(live.chain.id);
    }
    for (const chain of this.state.chainHeads.keys()) {
      const salt = saltOfChain(chain);
      if ((salt && salt.docId === enc) || chain.endsWith(`:${enc}`)) found.add(chain);
    }
    return [...found].filter((c) => saltOfChain(c) || /^log:[a-z]+:/.test(c)).sort();
  }

  async listChainHeads(page: PageRequest): Promise<Page<HeadRecord>> {
    await Promise.resolve();
    const after = page.cursor ? decodeCursor(page.cursor).d : null;
    const rows = [...this.state.chainHeads.entries()]
      .map(([chain, head]) => this.chainDocHead(chain, head))
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
