import type { AuditDraft } from "./audit";
import { chains } from "./auditChain";
import type { ScopeRecord } from "./scope";

type Context = Pick<AuditDraft, "actor" | "correlation_id" | "reason" | "operation">;

/** Scope changes chain on the scope's log chain. */
export const scopeChain = (scopeId: string): string => chains.of({ kind: "scope", id: scopeId });

/** The audit entry of a put: what changed, and the grants by name (who may ask for the scope is the point). */
export function putScopeAudit(
  audit: Context,
  outcome: { status: "created" | "updated"; record: ScopeRecord },
  before: ScopeRecord | null,
): AuditDraft {
  const was = new Set(before?.consumers ?? []);
  const now = new Set(outcome.record.consumers);
  return {
    ...audit,
    target: { kind: "scope", id: outcome.record.scope_id },
    result: "success",
    details: {
      created: outcome.status === "created",
      version: outcome.record.version,
      rotation_days: outcome.record.rotation_days,
      consumers: outcome.record.consumers.length,
      consumers_added: [...now].filter((c) => !was.has(c)).join(","),
      consumers_removed: [...was].filter((c) => !now.has(c)).join(","),
    },
  };
}

/** The audit entry of re-encrypting a scope's secrets under another key version (nothing else changes). */
export function rewrapScopeAudit(
  audit: Context,
  scopeId: string,
  before: { key_version: number }[],
  to: number,
): AuditDraft {
  const from = [...new Set(before.map((e) => e.key_version))].sort((a, b) => a - b);
  return {
    ...audit,
    target: { kind: "scope", id: scopeId },
    result: "success",
    details: { from_key_versions: from.join(","), to_key_version: to },
  };
}

/** The audit entry of a scope rotation (by salts-rotateScope or a job). */
export function rotateScopeAudit(
  request: { audit: Context; rotationId: string },
  record: ScopeRecord,
): AuditDraft {
  return {
    ...request.audit,
    target: { kind: "scope", id: record.scope_id },
    result: "success",
    rotation_id: request.rotationId,
    details: { version: record.version },
  };
}
