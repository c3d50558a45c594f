import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { AuditKey } from "./auditChain";
import { canonical } from "./auditChain";

/**
 * Dual control: the operations an approval policy can guard (operation names as
 * the pipeline, metrics and audit entries know them), and the approval records
 * a guarded call leaves instead of acting.
 */
export const GUARDABLE_OPERATIONS = ["erase", "rewrap", "rotate_due", "reload", "set_role"] as const;
export type GuardableOperation = (typeof GUARDABLE_OPERATIONS)[number];

/** What an approval can stand for: a guarded call, or the removal of guards from the policy. */
export type ApprovalOperation = GuardableOperation | "set_approvals";
export const APPROVAL_STATES = ["pending", "approved", "rejected", "expired"] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/**
 * A new approval id. Ids sort newest first (the time counts down), so listings
 * order by document id and need no index on a timestamp.
 */
export function newApprovalId(now: Date): string {
  const countdown = Math.max(0, 1e14 - now.getTime())
    .toString(36)
    .padStart(9, "0");
  return `apr_${countdown}${randomBytes(6).toString("hex")}`;
}

export const APPROVAL_ID_PATTERN = /^apr_[0-9a-z]{9}[0-9a-f]{12}$/;

export const isGuardable = (operation: string): operation is GuardableOperation =>
  (GUARDABLE_OPERATIONS as readonly string[]).includes(operation);

/** The guards in canonical order (the order of GUARDABLE_OPERATIONS), without repeats. */
export const normalizePolicy = (operations: Iterable<string>): GuardableOperation[] => {
  const set = new Set(operations);
  return GUARDABLE_OPERATIONS.filter((o) => set.has(o));
};

/** What a policy change asks: guards added (in force at once) and guards removed (only on approval). */
export function policyChange(
  current: readonly GuardableOperation[],
  wanted: readonly GuardableOperation[],
): { added: GuardableOperation[]; removed: GuardableOperation[] } {
  return {
    added: wanted.filter((o) => !current.includes(o)),
    removed: current.filter((o) => !wanted.includes(o)),
  };
}

/** How the run of an approved request went (`running` until its answer is recorded). */
export interface ApprovalRun {
  state: "running" | "done" | "failed";
  started_at: Date;
  finished_at?: Date | undefined;
  /** The request's answer, as the requester would have been told (JSON). */
  result?: Record<string, unknown> | undefined;
  error?: { code: string; message: string } | undefined;
}

/** The part of an approval fixed when it is asked for: what the MAC covers. */
export interface ApprovalRequestFacts {
  approval_id: string;
  operation: ApprovalOperation;
  /** The validated request without its request_id. */
  request: Record<string, unknown>;
  requested_by: string;
  requested_at: Date;
  expires_at: Date;
}

export interface ApprovalRecord extends ApprovalRequestFacts {
  state: ApprovalState;
  correlation_id: string;
  decided_by?: string | undefined;
  decided_at?: Date | undefined;
  /** The decider's reason. */
  reason?: string | undefined;
  run?: ApprovalRun | undefined;
  /** AUDIT_KEY version and HMAC over the request facts: a request changed in storage is refused. */
  key_version: number;
  mac: string;
}

function macOver(facts: ApprovalRequestFacts, key: Buffer): string {
  return createHmac("sha256", key)
    .update("salt-service/approval/v1\0")
    .update(
      canonical({
        approval_id: facts.approval_id,
        operation: facts.operation,
        request: facts.request,
        requested_by: facts.requested_by,
        requested_at: facts.requested_at.toISOString(),
        expires_at: facts.expires_at.toISOString(),
      }),
    )
    .digest("base64url");
}

/** Seals the request facts under the audit key. */
export function sealApproval(
  facts: ApprovalRequestFacts,
  key: AuditKey,
): { key_version: number; mac: string } {
  return { key_version: key.version, mac: macOver(facts, key.bytes) };
}

/** Whether the stored request facts are those the service sealed. */
export function approvalIntact(record: ApprovalRecord, key: Buffer): boolean {
  const expected = Buffer.from(macOver(record, key));
  const actual = Buffer.from(record.mac);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The policy as stored, sealed the same way: a policy edited in storage fails closed (everything guarded). */
export function policyMac(operations: readonly GuardableOperation[], key: Buffer): string {
  return createHmac("sha256", key)
    .update("salt-service/approval-policy/v1\0")
    .update(canonical(normalizePolicy(operations)))
    .digest("base64url");
}

export function policyIntact(operations: readonly string[], mac: string, key: Buffer): boolean {
  const expected = Buffer.from(policyMac(normalizePolicy(operations), key));
  const actual = Buffer.from(mac);
  return (
    normalizePolicy(operations).length === operations.length &&
    expected.length === actual.length &&
    timingSafeEqual(expected, actual)
  );
}

/** Audit entries of approvals go to one chain: the target every step names. */
export const APPROVALS_TARGET = { kind: "system", id: "approvals" } as const;

/** A pending request past its expiry counts as expired, whether or not that was recorded yet. */
export const isOverdue = (record: Pick<ApprovalRecord, "state" | "expires_at">, now: Date): boolean =>
  record.state === "pending" && record.expires_at.getTime() <= now.getTime();

/** The contract's view of an approval (ISO times; the MAC stays inside). */
export function approvalView(r: ApprovalRecord, now: Date) {
  const state: ApprovalState = isOverdue(r, now) ? "expired" : r.state;
  return {
    approval_id: r.approval_id,
    operation: r.operation,
    request: r.request,
    requested_by: r.requested_by,
    requested_at: r.requested_at.toISOString(),
    expires_at: r.expires_at.toISOString(),
    state,
    ...(r.decided_by !== undefined ? { decided_by: r.decided_by } : {}),
    ...(r.decided_at !== undefined ? { decided_at: r.decided_at.toISOString() } : {}),
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.run
      ? {
          run: {
            state: r.run.state,
            started_at: r.run.started_at.toISOString(),
            ...(r.run.finished_at ? { finished_at: r.run.finished_at.toISOString() } : {}),
            ...(r.run.error ? { error: r.run.error } : {}),
          },
          ...(r.run.result ? { result: r.run.result } : {}),
        }
      : {}),
  };
}

export type ApprovalView = ReturnType<typeof approvalView>;

/** The decision on a stored request, or its expiry when it is overdue; null when it is no longer pending. */
export function decideRecord<D>(
  record: ApprovalRecord,
  now: Date,
  decision: { state: "approved" | "rejected"; by: string; reason: string },
  drafts: { decided: D; expired: D },
): { record: ApprovalRecord; draft: D; status: "decided" | "expired" } | null {
  if (record.state !== "pending") return null;
  if (isOverdue(record, now))
    return { record: { ...record, state: "expired" }, draft: drafts.expired, status: "expired" };
  const decided: ApprovalRecord = {
    ...record,
    state: decision.state,
    decided_by: decision.by,
    decided_at: now,
    reason: decision.reason,
    ...(decision.state === "approved" ? { run: { state: "running" as const, started_at: now } } : {}),
  };
  return { record: decided, draft: drafts.decided, status: "decided" };
}
