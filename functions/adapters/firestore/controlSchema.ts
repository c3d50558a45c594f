import { Timestamp, type DocumentReference, type Transaction } from "firebase-admin/firestore";
import { z } from "zod";
import { ROLES, type RoleChangeIntent } from "../../domain/access";
import { APPROVAL_STATES, GUARDABLE_OPERATIONS, type ApprovalRecord } from "../../domain/approvals";
import type { RequestRecord } from "../../ports/approvals";
import { REQUEST_TTL_MS } from "../../ports/requestStore";
import type { Replayed } from "../../ports/saltStore";

/** Where dual control and access keep their documents (beside those in schema.ts). */
export const CONTROL = {
  approvals: "salts_approvals",
  roles: "salts_roles",
  /** In `salts_meta`: the approval policy and the role index's scan state. */
  policyDoc: "approvals",
  roleScanDoc: "roles",
} as const;

const timestamp = z.instanceof(Timestamp).transform((t) => t.toDate());
const json = z.string().transform((s, ctx) => {
  try {
    return JSON.parse(s) as Record<string, unknown>;
  } catch {
    ctx.addIssue({ code: "custom", message: "is not JSON" });
    return z.NEVER;
  }
});

export const approvalDocSchema = z.object({
  approval_id: z.string(),
  operation: z.enum([...GUARDABLE_OPERATIONS, "set_approvals"]),
  request: json,
  requested_by: z.string(),
  requested_at: timestamp,
  expires_at: timestamp,
  state: z.enum(APPROVAL_STATES),
  correlation_id: z.string(),
  decided_by: z.string().optional(),
  decided_at: timestamp.optional(),
  reason: z.string().optional(),
  run: z
    .object({
      state: z.enum(["running", "done", "failed"]),
      started_at: timestamp,
      finished_at: timestamp.optional(),
      result: json.optional(),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
    })
    .optional(),
  key_version: z.number().int().min(1),
  mac: z.string(),
});

export const parseApproval = (data: unknown): ApprovalRecord => approvalDocSchema.parse(data);

const drop = (o: Record<string, unknown>) => {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
};

export function runData(run: NonNullable<ApprovalRecord["run"]>): Record<string, unknown> {
  return drop({
    state: run.state,
    started_at: Timestamp.fromDate(run.started_at),
    finished_at: run.finished_at ? Timestamp.fromDate(run.finished_at) : undefined,
    result: run.result ? JSON.stringify(run.result) : undefined,
    error: run.error,
  });
}

export function approvalData(r: ApprovalRecord): Record<string, unknown> {
  return drop({
    ...r,
    request: JSON.stringify(r.request),
    requested_at: Timestamp.fromDate(r.requested_at),
    expires_at: Timestamp.fromDate(r.expires_at),
    decided_at: r.decided_at ? Timestamp.fromDate(r.decided_at) : undefined,
    run: r.run ? runData(r.run) : undefined,
  });
}

export const policyDocSchema = z.object({
  operations: z.array(z.string()),
  key_version: z.number().int().min(1),
  mac: z.string(),
});

const role = z.enum(ROLES);
const intentSchema = z.object({
  change_id: z.string(),
  uid: z.string(),
  role,
  grant: z.boolean(),
  actor: z.object({ uid: z.string(), via: z.string() }),
  correlation_id: z.string(),
  reason: z.string(),
  at: timestamp,
  approval: z.object({ id: z.string(), approved_by: z.string() }).optional(),
});

export const roleDocSchema = z.object({
  uid: z.string(),
  roles: z.array(role).default([]),
  pending: intentSchema
    .nullable()
    .default(null)
    .transform((p) => p as RoleChangeIntent | null),
});

export const parseIntent = (data: unknown): RoleChangeIntent => intentSchema.parse(data) as RoleChangeIntent;

export const intentData = (i: RoleChangeIntent): Record<string, unknown> =>
  drop({ ...i, at: Timestamp.fromDate(i.at), approval: i.approval });

/** Within a transaction: the live first answer under a request key, as a replay; null when there is none. */
export async function replayOf(
  tx: Transaction,
  ref: DocumentReference | null,
  request: RequestRecord | undefined,
  now: Date,
): Promise<Replayed | null> {
  if (!ref || !request) return null;
  const snap = await tx.get(ref);
  if (!snap.exists || (snap.get("expire_at") as Timestamp).toDate() <= now) return null;
  return {
    status: "replayed",
    answer: JSON.parse(snap.get("answer") as string),
    sameRequest: snap.get("fingerprint") === request.fingerprint,
  };
}

/** Stages the request record of a change on the transaction that commits the change. */
export function stageRequest(
  tx: Transaction,
  ref: DocumentReference,
  request: RequestRecord,
  now: Date,
): void {
  tx.set(ref, {
    fingerprint: request.fingerprint,
    answer: JSON.stringify(request.answer),
    created_at: Timestamp.fromDate(now),
    expire_at: Timestamp.fromMillis(now.getTime() + REQUEST_TTL_MS),
  });
}
