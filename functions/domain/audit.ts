import type { SaltKind } from "./ids";

export type ActorVia = "callable" | "scheduler" | "task" | "cli";

/** The contract's `AuditEntry`. Append-only: written once, never updated or deleted. */
export interface AuditEntry {
  id: string;
  at: string;
  actor: { uid: string; via: ActorVia };
  operation: string;
  target: { kind: SaltKind | "job" | "config" | "system"; id: string };
  result: "success" | "error";
  rotation_id?: string;
  correlation_id: string;
  reason?: string;
  /** Optional, non-secret extras (counts, error codes). */
  details?: Record<string, string | number | boolean | null>;
}

/** What a caller supplies; the id and time are filled in by the writer. */
export type AuditDraft = Omit<AuditEntry, "id" | "at">;

/** The audit entry of a change to the rotation intervals (staged or put in force). */
export function intervalsAudit(
  context: Pick<AuditDraft, "actor" | "correlation_id" | "reason" | "operation">,
  details: Record<string, number | null>,
): AuditDraft {
  return { ...context, target: { kind: "config", id: "intervals" }, result: "success", details };
}
