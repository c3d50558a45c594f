import { ACCESS_TARGET, type RoleChangeIntent, type RoleName } from "../../domain/access";
import type { AuditDraft } from "../../domain/audit";
import { chains } from "../../domain/auditChain";
import { unavailable } from "../../domain/errors";
import { encodeDocId } from "../../domain/ids";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import type { RoleIndex, RoleIndexEntry, RoleScanState } from "../../ports/accounts";
import type { RequestRecord } from "../../ports/approvals";
import type { Replayed } from "../../ports/saltStore";
import type { VersionedSecret } from "../../ports/secrets";
import { appendToChain } from "./memoryAudit";
import { memoryRecordRequest, memoryReplay } from "./memoryApprovals";
import type { MemoryState } from "./memoryState";

const INTENT_HOLD_MS = 10 * 60 * 1000;

/** The role index in memory, ordered as Firestore orders its documents (by encoded uid). */
export class MemoryRoleIndex implements RoleIndex {
  constructor(
    private readonly state: MemoryState,
    private readonly clock: () => Date,
    private readonly auditKey: VersionedSecret,
  ) {}

  async beginChange(intent: RoleChangeIntent): Promise<void> {
    await Promise.resolve();
    const entry = this.state.roleIndex.get(intent.uid);
    if (entry?.pending && entry.pending.at.getTime() > this.clock().getTime() - INTENT_HOLD_MS) {
      throw unavailable("Another role change of this account is in progress; nothing was changed: retry");
    }
    this.state.roleIndex.set(intent.uid, {
      uid: intent.uid,
      roles: entry?.roles ?? [],
      pending: structuredClone(intent),
    });
  }

  private async record(
    intent: RoleChangeIntent,
    roles: RoleName[],
    draft: AuditDraft,
    request: RequestRecord | undefined,
    onlyIfPending: boolean,
  ): Promise<{ status: "recorded" } | Replayed> {
    const key = await this.auditKey.current();
    const now = this.clock();
    const replay = memoryReplay(this.state, request, now);
    if (replay) return replay;
    const entry = this.state.roleIndex.get(intent.uid);
    const ours = entry?.pending?.change_id === intent.change_id;
    if (onlyIfPending && !ours) return { status: "recorded" };
    appendToChain(this.state, draft, now, chains.of(ACCESS_TARGET), key);
    const keep = ours ? null : (entry?.pending ?? null);
    if (roles.length === 0 && !keep) this.state.roleIndex.delete(intent.uid);
    else this.state.roleIndex.set(intent.uid, { uid: intent.uid, roles: [...roles], pending: keep });
    memoryRecordRequest(this.state, request, now);
    return { status: "recorded" };
  }

  completeChange(intent: RoleChangeIntent, roles: RoleName[], draft: AuditDraft, request?: RequestRecord) {
    return this.record(intent, roles, draft, request, false);
  }

  async settle(intent: RoleChangeIntent, roles: RoleName[], draft: AuditDraft): Promise<void> {
    await this.record(intent, roles, draft, undefined, true);
  }

  async list(page: {
    limit: number;
    cursor?: string | undefined;
    role?: RoleName | undefined;
  }): Promise<Page<RoleIndexEntry>> {
    await Promise.resolve();
    const after = page.cursor ? decodeCursor(page.cursor).d : null;
    const rows = [...this.state.roleIndex.values()]
      .map((e) => ({ e, d: encodeDocId(e.uid) }))
      .filter(({ e, d }) => (!page.role || e.roles.includes(page.role)) && (after === null || d > after))
      .sort((a, b) => (a.d < b.d ? -1 : 1));
    return toPage(
      rows.slice(0, page.limit + 1),
      page.limit,
      (r) => structuredClone(r.e),
      (r) => ({ t: 0, d: r.d }),
    );
  }

  async put(holders: { uid: string; roles: RoleName[] }[]): Promise<void> {
    await Promise.resolve();
    for (const h of holders) {
      const entry = this.state.roleIndex.get(h.uid);
      if (h.roles.length === 0 && !entry?.pending) this.state.roleIndex.delete(h.uid);
      else
        this.state.roleIndex.set(h.uid, { uid: h.uid, roles: [...h.roles], pending: entry?.pending ?? null });
    }
  }

  async staleIntents(before: Date, limit: number): Promise<RoleChangeIntent[]> {
    await Promise.resolve();
    return [...this.state.roleIndex.values()]
      .flatMap((e) => (e.pending && e.pending.at < before ? [structuredClone(e.pending)] : []))
      .sort((a, b) => a.at.getTime() - b.at.getTime())
      .slice(0, limit);
  }

  async readScanState(): Promise<RoleScanState> {
    await Promise.resolve();
    return structuredClone(this.state.roleScan);
  }

  async writeScanState(state: RoleScanState): Promise<void> {
    await Promise.resolve();
    this.state.roleScan = structuredClone(state);
  }
}
