import {
  FieldPath,
  Timestamp,
  type DocumentSnapshot,
  type Firestore,
  type Query,
} from "firebase-admin/firestore";
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
import type { Replayed } from "../../ports/saltStore";
import type { VersionedSecret } from "../../ports/secrets";
import { guarded } from "./errors";
import { appendLinked } from "./firestoreAudit";
import { COLLECTIONS } from "./schema";
import {
  approvalData,
  CONTROL,
  parseApproval,
  policyDocSchema,
  replayOf,
  runData,
  stageRequest,
} from "./controlSchema";

/**
 * `salts_approvals/{approval_id}` (ids sort newest first) and the policy in
 * `salts_meta/approvals`, sealed under the audit key. Every change is one
 * transaction with its entry on the approvals audit chain.
 */
export class FirestoreApprovalStore implements ApprovalStore {
  constructor(
    private readonly db: Firestore,
    private readonly clock: () => Date,
    private readonly auditKey: VersionedSecret,
    private readonly timeoutMs = 20_000,
  ) {}

  private ref(id: string) {
    return this.db.collection(CONTROL.approvals).doc(id);
  }

  private policyRef() {
    return this.db.collection(COLLECTIONS.meta).doc(CONTROL.policyDoc);
  }

  private requestRef(r: RequestRecord | undefined) {
    return r ? this.db.collection(COLLECTIONS.requests).doc(r.key) : null;
  }

  /** A stored policy is in force only if its seal holds; none stored is "no guards" unless approvals were audited. */
  private async policyOf(snap: DocumentSnapshot, chainExists: boolean): Promise<StoredApprovalPolicy> {
    if (!snap.exists) return { operations: [], intact: !chainExists };
    const parsed = policyDocSchema.safeParse(snap.data());
    if (!parsed.success) return { operations: [], intact: false };
    const key = await this.auditKey.version(parsed.data.key_version);
    return {
      operations: normalizePolicy(parsed.data.operations),
      intact: policyIntact(parsed.data.operations, parsed.data.mac, key.bytes),
    };
  }

  readPolicy(): Promise<StoredApprovalPolicy> {
    return guarded("approvals.readPolicy", this.timeoutMs, async () => {
      const chainRef = this.db.collection(COLLECTIONS.chains).doc(chains.of(APPROVALS_TARGET));
      const [policy, chain] = await this.db.getAll(this.policyRef(), chainRef);
      return this.policyOf(policy!, chain!.exists);
    });
  }

  writePolicy(
    next: Parameters<ApprovalStore["writePolicy"]>[0],
    draft: Parameters<ApprovalStore["writePolicy"]>[1],
    request?: RequestRecord,
  ): ReturnType<ApprovalStore["writePolicy"]> {
    return guarded("approvals.writePolicy", this.timeoutMs, async () => {
      const key = await this.auditKey.current();
      return this.db.runTransaction(async (tx) => {
        const now = this.clock();
        const replay = await replayOf(tx, this.requestRef(request), request, now);
        if (replay) return replay;
        const chainRef = this.db.collection(COLLECTIONS.chains).doc(chains.of(APPROVALS_TARGET));
        const [snap, chain] = await Promise.all([tx.get(this.policyRef()), tx.get(chainRef)]);
        const current = await this.policyOf(snap, chain.exists);
        const after = normalizePolicy(next(current));
        await appendLinked(
          this.db,
          tx,
          chains.of(APPROVALS_TARGET),
          draft(current.operations, after),
          now,
          key,
        );
        tx.set(this.policyRef(), {
          operations: after,
          key_version: key.version,
          mac: policyMac(after, key.bytes),
          updated_at: Timestamp.fromDate(now),
        });
        if (request) stageRequest(tx, this.requestRef(request)!, request, now);
        return { status: "written" as const, operations: after };
      });
    });
  }

  create(
    record: ApprovalRecord,
    draft: AuditDraft,
    request?: RequestRecord,
  ): Promise<{ status: "created" } | Replayed> {
    return guarded("approvals.create", this.timeoutMs, async () => {
      const key = await this.auditKey.current();
      return this.db.runTransaction(async (tx) => {
        const now = this.clock();
        const replay = await replayOf(tx, this.requestRef(request), request, now);
        if (replay) return replay;
        await appendLinked(this.db, tx, chains.of(APPROVALS_TARGET), draft, now, key);
        tx.create(this.ref(record.approval_id), approvalData(record));
        if (request) stageRequest(tx, this.requestRef(request)!, request, now);
        return { status: "created" as const };
      });
    });
  }

  get(approvalId: string): Promise<ApprovalRecord | null> {
    return guarded("approvals.get", this.timeoutMs, async () => {
      const snap = await this.ref(approvalId).get();
      return snap.exists ? parseApproval(snap.data()) : null;
    });
  }

  /** One transaction on the request: only a pending one changes, so of concurrent decisions one wins. */
  private transition(
    approvalId: string,
    decide: (
      record: ApprovalRecord,
      now: Date,
    ) => { record: ApprovalRecord; draft: AuditDraft; status: DecideOutcome["status"] } | null,
  ): Promise<DecideOutcome> {
    return guarded("approvals.decide", this.timeoutMs, async () => {
      const key = await this.auditKey.current();
      return this.db.runTransaction(async (tx) => {
        const snap = await tx.get(this.ref(approvalId));
        const record = parseApproval(snap.data());
        const now = this.clock();
        const change = decide(record, now);
        if (!change) return { status: "not-pending" as const, record };
        await appendLinked(this.db, tx, chains.of(APPROVALS_TARGET), change.draft, now, key);
        tx.set(this.ref(approvalId), approvalData(change.record));
        return { status: change.status, record: change.record } as DecideOutcome;
      });
    });
  }

  decide(
    approvalId: string,
    decision: { state: "approved" | "rejected"; by: string; reason: string },
    drafts: { decided: AuditDraft; expired: AuditDraft },
  ): Promise<DecideOutcome> {
    return this.transition(approvalId, (record, now) => decideRecord(record, now, decision, drafts));
  }

  expire(approvalId: string, draft: AuditDraft): Promise<DecideOutcome> {
    return this.transition(approvalId, (record, now) =>
      isOverdue(record, now) ? { record: { ...record, state: "expired" }, draft, status: "expired" } : null,
    );
  }

  finishRun(approvalId: string, run: ApprovalRun): Promise<void> {
    return guarded("approvals.finishRun", this.timeoutMs, async () => {
      await this.ref(approvalId).update({ run: runData(run) });
    });
  }

  list(query: {
    state?: ApprovalState | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<ApprovalRecord>> {
    return guarded("approvals.list", this.timeoutMs, async () => {
      let q: Query = this.db.collection(CONTROL.approvals);
      if (query.state) q = q.where("state", "==", query.state);
      q = q.orderBy(FieldPath.documentId());
      if (query.cursor) q = q.startAfter(decodeCursor(query.cursor).d);
      const snap = await q.limit(query.limit + 1).get();
      return toPage(
        snap.docs.map((d) => parseApproval(d.data())),
        query.limit,
        (r) => r,
        (r) => ({ t: 0, d: r.approval_id }),
      );
    });
  }

  listOverdue(now: Date, limit: number): Promise<ApprovalRecord[]> {
    return guarded("approvals.listOverdue", this.timeoutMs, async () => {
      // Pending requests are few (each ends within APPROVAL_TTL_HOURS): read them, keep the overdue.
      const snap = await this.db
        .collection(CONTROL.approvals)
        .where("state", "==", "pending")
        .limit(500)
        .get();
      return snap.docs
        .map((d) => parseApproval(d.data()))
        .filter((r) => isOverdue(r, now))
        .sort((a, b) => a.expires_at.getTime() - b.expires_at.getTime())
        .slice(0, limit);
    });
  }
}
