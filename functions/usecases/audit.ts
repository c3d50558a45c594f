import type { AuditEntry, AuditResult } from "../domain/audit";
import { entryProblem } from "../domain/auditChain";
import { notFound } from "../domain/errors";
import { toMetadata, type SaltMetadata } from "../domain/salt";
import { keyring } from "./chainWalk";
import { auditContext, type CallContext, type Services } from "./deps";

/**
 * An entry as listed: `verified` says it carries a chain link whose mac checks
 * under the audit key (the service wrote it, and it is unchanged). An entry that
 * does not is shown as unverified, never as genuine; whether entries around it
 * were removed is what `salts-auditVerify` checks.
 */
export type ListedEntry = AuditEntry & { verified: boolean };

export async function markVerified(
  deps: Pick<Services, "auditKey">,
  entries: AuditEntry[],
): Promise<ListedEntry[]> {
  const key = keyring(deps.auditKey);
  return Promise.all(
    entries.map(async (e) => {
      const bytes = e.integrity ? await key(e.integrity.key_version) : null;
      return { ...e, verified: entryProblem(e, bytes) === null };
    }),
  );
}

export interface AuditResponse {
  salt: SaltMetadata;
  history: { version: number; created_at: string; retired_at: string; salt_hash_prefix: string }[];
  audit: ListedEntry[];
}

const RECENT_ENTRIES = 50;

/** One user's salt metadata, retained versions and recent audit entries. Reading it is itself audited. */
export async function auditUser(
  deps: Pick<Services, "salts" | "audit" | "clock" | "auditKey">,
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
    audit: await markVerified(
      deps,
      entries.items.filter((e) => e.target.kind === "user"),
    ),
  };
}

export async function auditLog(
  deps: Pick<Services, "audit" | "auditKey">,
  query: {
    limit: number;
    cursor?: string | undefined;
    target_id?: string | undefined;
    operation?: string | undefined;
    result?: AuditResult | undefined;
    from?: Date | undefined;
    to?: Date | undefined;
  },
): Promise<{ entries: ListedEntry[]; next_cursor: string | null }> {
  const page = await deps.audit.listAudit({
    limit: query.limit,
    cursor: query.cursor,
    targetId: query.target_id,
    operation: query.operation,
    result: query.result,
    from: query.from,
    to: query.to,
  });
  return { entries: await markVerified(deps, page.items), next_cursor: page.nextCursor };
}
