import { httpsCallable, type Functions } from "firebase/functions";
import type * as S from "./scopeTypes";
import type * as T from "./types";

/** The callables the console uses, with what each takes and answers. */
export interface Callables {
  status: [Record<string, never>, T.StatusResponse];
  forecast: [{ days?: number; kind?: "user" | "global" | "all" }, T.ForecastResponse];
  rotateUser: [{ user_id: string; force?: boolean; reason?: string }, T.RotateResponse];
  rotateGlobal: [{ event_type: string; force?: boolean; reason?: string }, T.RotateResponse];
  rotateDue: [{ kind?: "user" | "global" | "all"; limit?: number; dry_run?: boolean }, T.RotateDueResponse];
  rewrap: [{ dry_run?: boolean }, T.RewrapResponse];
  job: [{ job_id: string }, T.JobStatus];
  listJobs: [{ limit?: number; cursor?: string }, T.ListJobsResponse];
  listSalts: [{ kind: "user" | "global"; limit?: number; cursor?: string }, T.ListSaltsResponse];
  audit: [{ user_id: string }, T.AuditUserResponse];
  auditLog: [AuditLogQuery, T.AuditLogResponse];
  auditVerify: [{ target_id?: string; limit?: number; cursor?: string }, T.AuditVerifyResponse];
  erase: [{ user_id: string; reason: string }, T.EraseResponse];
  reloadConfig: [Record<string, never>, T.ReloadResponse];
  roles: [{ role?: T.RoleName; limit?: number; cursor?: string; scan?: boolean }, T.RolesResponse];
  setRole: [
    { uid?: string; email?: string; role: T.RoleName; grant: boolean; reason: string },
    T.SetRoleResponse,
  ];
  setApprovals: [{ operations: T.GuardableOperation[]; reason: string }, T.SetApprovalsResponse];
  approve: [{ approval_id: string; decision: "approve" | "reject"; reason: string }, T.DecideResponse];
  approvals: [
    { state?: T.ApprovalState; limit?: number; cursor?: string; approval_id?: string },
    T.ApprovalsResponse,
  ];
  bigqueryInfo: [{ limit?: number }, T.BigqueryInfoResponse];
  subjectReport: [
    { user_id: string; values?: Record<string, S.ReportValue>; event_types?: string[]; reason: string },
    S.SubjectReportResponse,
  ];
  scopes: [{ limit?: number; cursor?: string }, S.ScopesResponse];
  putScope: [
    { scope_id: string; description: string; rotation_days: number; consumers: string[]; reason: string },
    S.PutScopeResponse,
  ];
  rotateScope: [{ scope_id: string; reason: string }, S.RotateScopeResponse];
}
export type CallableName = keyof Callables;

export interface AuditLogQuery {
  limit?: number;
  cursor?: string;
  target_id?: string;
  operation?: string;
  result?: "success" | "error" | "denied";
  from?: string;
  to?: string;
}

/** Callables that change something: each user action sends a fresh request_id (safe retries). */
const MUTATING = new Set<CallableName>([
  "rotateUser",
  "rotateGlobal",
  "rotateDue",
  "rewrap",
  "erase",
  "setRole",
  "setApprovals",
  "approve",
  "subjectReport",
  "putScope",
  "rotateScope",
]);
/** Callables newer than the first release: a server without them is "not available yet", not broken. */
const NEWER = new Set<CallableName>([
  "forecast",
  "rewrap",
  "auditVerify",
  "listSalts",
  "listJobs",
  "roles",
  "setRole",
  "setApprovals",
  "approve",
  "approvals",
  "bigqueryInfo",
  "subjectReport",
  "scopes",
  "putScope",
  "rotateScope",
]);
/** Callables an approval policy can guard: their answer may be a request waiting for a second admin. */
const GUARDABLE = new Set<CallableName>(["erase", "rewrap", "rotateDue", "reloadConfig", "setRole"]);

/** Fired on window whenever this console learns that the set of pending approvals changed. */
export const APPROVALS_CHANGED = "salts-approvals-changed";

export interface Issue {
  path: string;
  message: string;
}

/** A failed call, normalised: the code in the contract's words plus what the server said. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly fn: CallableName,
    readonly code: string,
    message: string,
    readonly correlationId: string | null,
    readonly details: Record<string, unknown>,
    /** The server does not offer this callable (yet). */
    readonly notAvailable: boolean,
    /** Re-sends the same request (same request_id), for outcomes that are unknown. */
    readonly retry: (() => Promise<unknown>) | null,
  ) {
    super(message);
  }

  get issues(): Issue[] {
    const issues = this.details.issues;
    return Array.isArray(issues) ? (issues as Issue[]) : [];
  }

  /** When a guarded call was recorded for a second admin instead of run. */
  get pendingApproval(): T.PendingApproval | null {
    const p = this.details.pending_approval;
    return p && typeof p === "object" ? (p as T.PendingApproval) : null;
  }

  get retryAfterSeconds(): number | null {
    const s = this.details.retry_after_seconds;
    return typeof s === "number" ? s : null;
  }
}

function newRequestId(): string {
  return crypto.randomUUID();
}

export class SaltsApi {
  /** Learned from the server: a backend that predates request_id refuses it as an unknown field. */
  private acceptsRequestId = true;

  constructor(private readonly functions: Functions) {}

  async call<N extends CallableName>(name: N, data: Callables[N][0]): Promise<Callables[N][1]> {
    const requestId = MUTATING.has(name) ? newRequestId() : null;
    return this.send(name, data, requestId);
  }

  private async send<N extends CallableName>(
    name: N,
    data: Callables[N][0],
    requestId: string | null,
  ): Promise<Callables[N][1]> {
    const fn = httpsCallable<object, Callables[N][1]>(this.functions, `salts-${name}`);
    const payload = requestId && this.acceptsRequestId ? { ...data, request_id: requestId } : data;
    let answer: Callables[N][1];
    try {
      answer = (await fn(payload)).data;
    } catch (e) {
      const error = this.normalise(name, e, () => this.send(name, data, requestId));
      if (
        requestId &&
        this.acceptsRequestId &&
        error.code === "invalid-argument" &&
        error.issues.length === 1 &&
        error.issues[0]?.path === "request_id"
      ) {
        // An older backend: invalid-argument means it did nothing, so sending it again without the id is safe.
        this.acceptsRequestId = false;
        return this.send(name, data, requestId);
      }
      throw error;
    }
    const pending = (answer as { pending_approval?: T.PendingApproval }).pending_approval;
    if (pending) window.dispatchEvent(new CustomEvent(APPROVALS_CHANGED));
    // A guarded call did not act: the page's normal answer never came, so it is told as such.
    if (pending && GUARDABLE.has(name)) {
      const correlationId = (answer as { correlation_id?: string }).correlation_id ?? null;
      throw new ApiError(
        name,
        "pending-approval",
        "",
        correlationId,
        { pending_approval: pending },
        false,
        null,
      );
    }
    return answer;
  }

  private normalise(name: CallableName, e: unknown, retry: () => Promise<unknown>): ApiError {
    const raw = e as { code?: unknown; message?: unknown; details?: unknown };
    const code = typeof raw.code === "string" ? raw.code.replace(/^functions\//, "") : "unknown";
    const details =
      raw.details && typeof raw.details === "object" ? (raw.details as Record<string, unknown>) : {};
    const correlationId = typeof details.correlation_id === "string" ? details.correlation_id : null;
    // Every answer of this service carries a correlation id; a failure without one never reached it.
    const notAvailable =
      NEWER.has(name) && correlationId === null && ["not-found", "internal", "unimplemented"].includes(code);
    const message = typeof raw.message === "string" ? raw.message : String(e);
    const canRetry = code === "deadline-exceeded" || code === "unavailable";
    return new ApiError(name, code, message, correlationId, details, notAvailable, canRetry ? retry : null);
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
