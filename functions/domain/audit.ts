import type { SaltKind } from "./ids";

export type ActorVia = "callable" | "scheduler" | "task" | "cli" | "bigquery";
export type AuditResult = "success" | "error" | "denied";

/**
 * An entry's place in its hash chain: each entry commits to the one before it in
 * the same chain (`prev`), under a key the database does not hold (`mac`).
 */
export interface ChainLink {
  /** The chain: a salt's incarnation, a target's log, a caller, a job, the sweep. */
  chain: string;
  /** 1, 2, 3, ... within the chain: a gap is a removed entry. */
  seq: number;
  /** The previous entry's mac (null for the first). */
  prev: string | null;
  /** The AUDIT_KEY version the mac was made with. */
  key_version: number;
  mac: string;
}

/** The contract's `AuditEntry`. Append-only: written once, never updated or deleted. */
export interface AuditEntry {
  id: string;
  at: string;
  actor: { uid: string; via: ActorVia };
  operation: string;
  target: { kind: SaltKind | "job" | "config" | "system" | "scope"; id: string };
  result: AuditResult;
  rotation_id?: string;
  correlation_id: string;
  reason?: string;
  /** Optional, non-secret extras (counts, error codes). */
  details?: Record<string, string | number | boolean | null>;
  integrity?: ChainLink;
}

/** What a caller supplies; the id, time and chain link are filled in by the writer. */
export type AuditDraft = Omit<AuditEntry, "id" | "at" | "integrity">;

/** The audit entry of a change to the rotation intervals (staged or put in force). */
export function intervalsAudit(
  context: Pick<AuditDraft, "actor" | "correlation_id" | "reason" | "operation" | "details">,
  details: Record<string, number | null>,
): AuditDraft {
  return {
    ...context,
    target: { kind: "config", id: "intervals" },
    result: "success",
    details: { ...context.details, ...details },
  };
}
