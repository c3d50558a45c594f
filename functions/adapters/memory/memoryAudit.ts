import { randomUUID } from "node:crypto";
import { intervalsAudit, type AuditDraft, type AuditEntry } from "../../domain/audit";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import type {
  ActiveSettings,
  AuditContext,
  AuditQuery,
  AuditStore,
  PendingSettings,
  SettingsStore,
  StoredSettings,
} from "../../ports/saltStore";
import type { MemoryState } from "./memoryState";

/** Appends an entry to the shared trail (within whatever atomic step the caller is in). */
export function appendEntry(state: MemoryState, draft: AuditDraft, now: Date): AuditEntry {
  const entry: AuditEntry = { ...draft, id: randomUUID(), at: now.toISOString() };
  state.audit.push(structuredClone(entry));
  return entry;
}

export class MemoryAuditStore implements AuditStore {
  constructor(
    private readonly state: MemoryState,
    private readonly clock: () => Date,
  ) {}

  async appendAudit(draft: AuditDraft): Promise<AuditEntry> {
    await Promise.resolve();
    return appendEntry(this.state, draft, this.clock());
  }

  async listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    await Promise.resolve();
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const rows = this.state.audit
      .filter(
        (e) =>
          (query.targetId === undefined || e.target.id === query.targetId) &&
          (query.operation === undefined || e.operation === query.operation),
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
}

export class MemorySettingsStore implements SettingsStore {
  constructor(
    private readonly state: MemoryState,
    private readonly clock: () => Date,
  ) {}

  async readSettings(): Promise<StoredSettings> {
    await Promise.resolve();
    return structuredClone(this.state.settings);
  }

  async writePendingSettings(pending: PendingSettings, audit: AuditContext): Promise<void> {
    await Promise.resolve();
    this.state.settings = { ...this.state.settings, pending: { ...pending } };
    appendEntry(
      this.state,
      intervalsAudit(audit, {
        pending_user_days: pending.user_days ?? null,
        pending_global_days: pending.global_days ?? null,
      }),
      this.clock(),
    );
  }

  async activateSettings(
    intervals: { user_days: number; global_days: number },
    audit: AuditContext,
  ): Promise<ActiveSettings> {
    await Promise.resolve();
    const active = { ...intervals, reloaded_at: this.clock() };
    this.state.settings = { ...this.state.settings, active };
    appendEntry(
      this.state,
      intervalsAudit(audit, { user_days: intervals.user_days, global_days: intervals.global_days }),
      this.clock(),
    );
    return { ...active };
  }
}
