import type { ActorVia } from "../domain/audit";
import type { AuditContext } from "../ports/saltBackend";

/** Who is calling and under which correlation id; every use case takes one. */
export interface CallContext {
  correlationId: string;
  actor: { uid: string; via: ActorVia };
}

export function auditContext(ctx: CallContext, operation: string, reason?: string): AuditContext {
  return {
    actor: ctx.actor,
    correlation_id: ctx.correlationId,
    operation,
    ...(reason !== undefined ? { reason } : {}),
  };
}
