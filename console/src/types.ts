/** Wire types of the salts callables (see the API contract). */
export type SaltKind = "user" | "global";

export interface SaltMetadata {
  kind: SaltKind;
  id: string;
  version: number;
  created_at: string;
  last_rotated: string;
  rotation_count: number;
  next_rotation: string;
  previous_salt_hash: string | null;
  due: boolean;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: { uid: string; via: string };
  operation: string;
  target: { kind: string; id: string };
  result: "success" | "error" | "denied";
  rotation_id?: string;
  correlation_id: string;
  reason?: string;
  details?: Record<string, string | number | boolean | null>;
  /** False: no valid chain link under the audit key (not written by the service, or changed). */
  verified?: boolean;
}

export interface Correlated {
  correlation_id: string;
}

export interface StatusResponse extends Correlated {
  storage_type: "firestore" | "memory";
  degraded: boolean;
  degraded_reasons?: string[];
  users: { total: number; due: number };
  globals: { total: number; due: number };
  rotation_intervals: { user_days: number; global_days: number };
  pepper: { version: number | null };
  encryption?: { current_key_version: number | null; key_versions_in_use: number[] };
  generated_at: string;
}

export interface ForecastResponse extends Correlated {
  buckets: { date: string; users: number; globals: number }[];
  overdue: { users: number; globals: number };
  generated_at: string;
}

export interface RotateResponse extends Correlated {
  rotation_id: string;
  created: boolean;
  salt: SaltMetadata;
}

export interface AuditUserResponse extends Correlated {
  salt: SaltMetadata;
  history: { version: number; created_at: string; retired_at: string; salt_hash_prefix: string }[];
  audit: AuditEntry[];
}

export interface AuditLogResponse extends Correlated {
  entries: AuditEntry[];
  next_cursor: string | null;
}

export interface EraseResponse extends Correlated {
  erased: boolean;
  versions_destroyed: number;
  receipt: { user_id_hash: string; erased_at: string; rotation_id: string };
}

export interface RotateDueResponse extends Correlated {
  job_id: string;
  dry_run: boolean;
  due: { users: number; globals: number };
  rotated: number;
  failed: number;
  queued: number;
  mode?: string;
}

export interface RewrapResponse extends Correlated {
  job_id: string;
  dry_run: boolean;
  total: number;
  queued: number;
  mode: string;
}

export interface JobStatus extends Correlated {
  job_id: string;
  /** "rotation", "rewrap", or a newer job type (e.g. "reschedule"). */
  type?: string;
  state: "running" | "done" | "failed";
  total: number;
  /** Items acted on whatever the job does (newer servers); `rotated` / `rewrapped` per type. */
  processed?: number;
  rotated: number;
  rewrapped?: number;
  failed: number;
  skipped?: number;
  started_at: string;
  finished_at?: string;
  mode?: string;
  dry_run?: boolean;
  error?: string;
}

export interface ListJobsResponse extends Correlated {
  jobs: JobStatus[];
  next_cursor: string | null;
}

export interface ListSaltsResponse extends Correlated {
  salts: SaltMetadata[];
  next_cursor: string | null;
}

export interface AuditVerifyResponse extends Correlated {
  intact: boolean;
  checked_entries: number;
  checked_targets: number;
  breaks: { entry_id?: string; target: { kind: string; id: string }; problem: string }[];
  next_cursor: string | null;
}

export interface ReloadResponse extends Correlated {
  rotation_intervals: { user_days: number; global_days: number };
  reloaded_at: string;
  /** Newer servers: the job that moves every stored due date in step with the new intervals. */
  reschedule?: { job_id: string; total: number; rescheduled: number; queued: number; mode: string };
}

export type RoleName = "admin" | "auditor";

export interface RoleHolder {
  uid: string;
  email?: string;
  roles: RoleName[];
  disabled: boolean;
}

export interface RolesResponse extends Correlated {
  holders: RoleHolder[];
  next_cursor: string | null;
  source?: "index" | "auth";
  reconciled_at?: string | null;
}

export interface SetRoleResponse extends Correlated {
  uid: string;
  roles: RoleName[];
}

export type GuardableOperation = "erase" | "rewrap" | "rotate_due" | "reload" | "set_role";
export type ApprovalState = "pending" | "approved" | "rejected" | "expired";

export interface PendingApproval {
  approval_id: string;
  operation: string;
  requested_by: string;
  expires_at: string;
}

export interface Approval {
  approval_id: string;
  operation: string;
  request: Record<string, unknown>;
  requested_by: string;
  requested_at: string;
  expires_at: string;
  state: ApprovalState;
  decided_by?: string;
  decided_at?: string;
  reason?: string;
  run?: { state: "running" | "done" | "failed"; error?: { code: string; message: string } };
  result?: Record<string, unknown>;
}

export interface ApprovalsResponse extends Correlated {
  approvals: Approval[];
  next_cursor: string | null;
  policy?: { operations: GuardableOperation[]; intact: boolean };
}

export interface SetApprovalsResponse extends Correlated {
  operations: GuardableOperation[];
  pending_approval?: PendingApproval;
}

export interface DecideResponse extends Correlated {
  approval: Approval;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

export interface BigqueryJob {
  caller: string | null;
  session_user: string;
  invoker: string | null;
  mode: string | null;
  scope: string | null;
  first_seen: string;
  correlation_id: string;
}

export interface BigqueryInfoResponse extends Correlated {
  endpoint: string;
  emulator: boolean;
  invokers: string[];
  max_batching_rows: number;
  max_calls: number;
  recent_jobs: BigqueryJob[];
}
