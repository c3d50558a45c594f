import type { ServiceRuntime } from "../app/runtime";
import type { AuditEntry } from "../domain/audit";
import { notFound } from "../domain/errors";
import { toMetadata, type SaltMetadata } from "../domain/salt";
import { auditContext, type CallContext } from "./context";

export interface AuditResponse {
  salt: SaltMetadata;
  history: { version: number; created_at: string; retired_at: string; salt_hash_prefix: string }[];
  audit: AuditEntry[];
}

const RECENT_ENTRIES = 50;

/** One user's salt metadata, retained versions and recent audit entries. Reading it is itself audited. */
export async function auditUser(
  rt: ServiceRuntime,
  ctx: CallContext,
  userId: string,
): Promise<AuditResponse> {
  const loaded = await rt.backend.get("user", userId);
  if (!loaded) throw notFound("The user salt");
  const [history, entries] = await Promise.all([
    rt.backend.history("user", userId),
    rt.backend.listAudit({ limit: RECENT_ENTRIES, targetId: userId }),
  ]);
  await rt.backend.appendAudit({
    ...auditContext(ctx, "audit"),
    target: { kind: "user", id: userId },
    result: "success",
  });
  return {
    salt: toMetadata(loaded.record, rt.policy(), rt.clock()),
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
  rt: ServiceRuntime,
  query: {
    limit: number;
    cursor?: string | undefined;
    target_id?: string | undefined;
    operation?: string | undefined;
  },
): Promise<{ entries: AuditEntry[]; next_cursor: string | null }> {
  const page = await rt.backend.listAudit({
    limit: query.limit,
    cursor: query.cursor,
    targetId: query.target_id,
    operation: query.operation,
  });
  return { entries: page.items, next_cursor: page.nextCursor };
}
