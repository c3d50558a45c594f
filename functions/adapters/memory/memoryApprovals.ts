import {
  APPROVALS_TARGET,
  decideRecord,
  isOverdue,
  normalizePolicy,
  policyIntact,
  policyMac,
  type ApprovalRecord,
  type ApprovalRun,
  type ApprovalState,
} from "../../domain/approvals";
import type { AuditDraft } from "../../domain/audit";
import { chains } from "../../domain/auditChain";
import { decodeCursor, toPage, type Page } from "../../domain/paging";
import type {
  ApprovalStore,
  DecideOutcome,
  RequestRecord,
  StoredApprovalPolicy,
} from "../../ports/approvals";
import { REQUEST_TTL_MS } from "../../ports/requestStore";
import type { Replayed } from "../../ports/saltStore";
import type { VersionedSecret } from "../../ports/secrets";
import { appendToChain } from "./memoryAudit";
import type { MemoryState } from "./memoryState";

/** Shared by the memory stores of dual control and access: a live request record as a replay, and its write. */
export function memoryReplay(
  state: MemoryState,
  request: RequestRecord | undefined,
  now: Date,
): Replayed | null {
  const r = request ? state.requests.get(request.key) : undefined;
  if (!request || !r || r.expiresAt <= now) return null;
  return {
    status: "replayed",
    answer: JSON.parse(r.answer),
    sameRequest: r.fingerprint === request.fingerprint,
  };
}

export function memoryRecordRequest(state: MemoryState, request: RequestRecord | undefined, now: Date): void {
  if (!request) return;
  state.requests.set(request.key, {
    fingerprint: request.fingerprint,
    answer: JSON.stringify(request.answer),
    expiresAt: new Date(now.getTime() + REQUEST_TTL_MS),
  });
}

const copy = (r: ApprovalRecord): ApprovalRecord => structuredClone(r);

/** Approvals in memory; each change and its audit entry happen in one synchronous step (atomic here). */
export class MemoryApprovalStore implements ApprovalStore {
  constructor(
    private readonly state: MemoryState,
    private readonly clock: () => Date,
    private readonly auditKey: VersionedSecret,
  ) {}

  private async policyNow(): Promise<StoredApprovalPolicy> {
    const p = this.state.approvalPolicy;
    if (!p) return { operations: [], intact: !this.state.chainHeads.has(chains.of(APPROVALS_TARGET)) };
    const key = await this.auditKey.version(p.key_version);
    return {
      operations: normalizePolicy(p.operations),
      intact: policyIntact(p.operations, p.mac, key.bytes),
    };
  }

  readPolicy(): Promise<StoredApprovalPolicy> {
    return this.policyNow();
  }

  async writePolicy(
    next: Parameters<ApprovalStore["writePolicy"]>[0],
    draft: Parameters<ApprovalStore["writePolicy"]>[1],
    request?: RequestRecord,
  ): ReturnType<ApprovalStore["writePolicy"]> {
    const key = await this.auditKey.current();
    const current = await this.policyNow();
    const now = this.clock();
    const replay = memoryReplay(this.state, request, now);
    if (replay) return replay;
    const after = normalizePolicy(next(current));
    appendToChain(this.state, draft(current.operations, after), now, chains.of(APPROVALS_TARGET), key);
    this.state.approvalPolicy = {
      operations: after,
      key_version: key.version,
      mac: policyMac(after, key.bytes),
    };
    memoryRecordRequest(this.state, request, now);
    return { status: "written", operations: after };
  }

  async create(
    record: ApprovalRecord,
    draft: AuditDraft,
    request?: RequestRecord,
  ): Promise<{ status: "created" } | Replayed> {
    const key = await this.auditKey.current();
    const now = this.clock();
    const replay = memoryReplay(this.state, request, now);
    if (replay) return replay;
    if (this.state.approvals.has(record.approval_id)) throw new Error("approval id collision");
    appendToChain(this.state, draft, now, chains.of(APPROVALS_TARGET), key);
    this.state.approvals.set(record.approval_id, copy(record));
    memoryRecordRequest(this.state, request, now);
    return { status: "created" };
  }

  async get(approvalId: string): Promise<ApprovalRecord | null> {
    await Promise.resolve();
    const r = this.state.approvals.get(approvalId);
    return r ? copy(r) : null;
  }

  private async transition(
    approvalId: string,
    change: (
      r: ApprovalRecord,
      now: Date,
    ) => { record: ApprovalRecord; draft: AuditDraft; status: "decided" | "expired" } | null,
  ): Promise<DecideOutcome> {
    const key = await this.auditKey.current();
    const stored = this.state.approvals.get(approvalId);
    if (!stored) throw new Error(`approval ${approvalId} is missing`);
    const now = this.clock();
    const out = change(copy(stored), now);
    if (!out) return { status: "not-pending", record: copy(stored) };
    appendToChain(this.state, out.draft, now, chains.of(APPROVALS_TARGET), key);
    this.state.approvals.set(approvalId, copy(out.record));
    return { status: out.status, record: copy(out.record) };
  }

  decide(
    approvalId: string,
    decision: { state: "approved" | "rejected"; by: string; reason: string },
    drafts: { decided: AuditDraft; expired: AuditDraft },
  ): Promise<DecideOutcome> {
    return this.transition(approvalId, (r, now) => decideRecord(r, now, decision, drafts));
  }

  expire(approvalId: string, draft: AuditDraft): Promise<DecideOutcome> {
    return this.transition(approvalId, (r, now) =>
      isOverdue(r, now) ? { record: { ...r, state: "expired" }, draft, status: "expired" } : null,
    );
  }

  async finishRun(approvalId: string, run: ApprovalRun): Promise<void> {
    await Promise.resolve();
    const r = this.state.approvals.get(approvalId);
    if (r) r.run = structuredClone(run);
  }

  async list(query: {
    state?: ApprovalState | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<ApprovalRecord>> {
    await Promise.resolve();
    const after = query.cursor ? decodeCursor(query.cursor).d : null;
    const rows = [...this.state.approvals.values()]
      .filter((r) => !query.state || r.state === query.state)
      .filter((r) => after === null || r.approval_id > after)
      .sort((a, b) => (a.approval_id < b.approval_id ? -1 : 1));
    return toPage(rows.slice(0, query.limit + 1), query.limit, copy, (r) => ({ t: 0, d: r.approval_id }));
  }

  async listOverdue(now: Date, limit: number): Promise<ApprovalRecord[]> {
    await Promise.resolve();
    return [...this.state.approvals.values()]
      .filter((r) => isOverdue(r, now))
      .sort((a, b) => a.expires_at.getTime() - b.expires_at.getTime())
      .slice(0, limit)
      .map(copy);
  }
}
