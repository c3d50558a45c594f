import type { AuditEntry, AuditResult } from "../domain/audit";
import { notFound } from "../domain/errors";
import { toMetadata, type SaltMetadata } from "../domain/salt";
import { auditContext, type CallContext, type Services } from "./deps";

export interface AuditResponse {
  salt: SaltMetadata;
  history: { version: number; created_at: string; retired_at: string; salt_hash_prefix: string }[];
  audit: AuditEntry[];
}

const RECENT_ENTRIES = 50;

/** One user's salt metadata, retained versions and recent audit entries. Reading it is itself audited. */
export async function auditUser(
  deps: Pick<Services, "salts" | "audit" | "clock">,
  ctx: CallContext,
  userId: string,
): Promise<AuditResponse> {
  const record = await deps.salts.record("user", userId);
  if (!record) throw notFound("The user salt");
  const [history, entries] = await Promise.all([
    deps.salts.history("user", userId),
    deps.audit.listAudit({ limit: RECENT_ENTRIES, targetId: userId }),
  ]);
  await deps.audit.appendAudit({
    ...auditContext(ctx, "audit"),
    target: { kind: "user", id: userId },
    result: "success",
  });
  return {
    salt: toMetadata(record, deps.clock()),
    history: history.map((v) => ({
      version: v.version,
      created_at: v.created_at.toISOString(),
      retired_at: v.retired_at.toISOString(),
      salt_hash_prefix: v.salt_hash_prefix,
    })),
    audit: entries.items.filter((e) => e.target.kind === "user"),
  };
}

export async function auditLog(
  deps: Pick<Services, "audit">,
  query: {
    limit: number;
    cursor?: string | undefined;
    target_id?: string | undefined;
    operation?: string | undefined;
    result?: AuditResult | undefined;
    from?: Date | undefined;
    to?: Date | undefined;
  },
): Promise<{ entries: AuditEntry[]; next_cursor: string | null }> {
  const page = await deps.audit.listAudit({
    limit: query.limit,
    cursor: query.cursor,
    targetId: query.target_id,
    operation: query.operation,
    result: query.result,
    from: query.from,
    to: query.to,
  });
  return { entries: page.items, next_cursor: page.nextCursor };
}
