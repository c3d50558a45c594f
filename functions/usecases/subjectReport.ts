import type { AuditEntry } from "../domain/audit";
import { assertSaltId } from "../domain/ids";
import { pseudonymPrefix, pseudonymWithPrefix, type PseudonymizableValue } from "../domain/pseudonym";
import { toMetadata, type LoadedSalt, type SaltMetadata } from "../domain/salt";
import type { Pepper } from "../ports/secrets";
import { auditContext, type CallContext, type Services } from "./deps";
import { requestIdReused } from "./idempotency";

type Values = Record<string, PseudonymizableValue>;

export interface SubjectReportInput {
  user_id: string;
  values?: Values | undefined;
  event_types?: string[] | undefined;
  reason: string;
}

export interface SubjectReport {
  user_id: string;
  state: "active" | "erased" | "unknown";
  salt?: SaltMetadata;
  versions: {
    version: number;
    created_at: string;
    retired_at?: string;
    pseudonyms: Record<string, string>;
  }[];
  globals: { event_type: string; version: number; pseudonyms: Record<string, string> }[];
  erased_at?: string;
  audit: AuditEntry[];
  /** More audit entries exist than the report carries (salts-auditLog with target_id pages through all). */
  audit_truncated: boolean;
  /** The pepper version every pseudonym in the report was made under (the current one, as the library's). */
  pepper_version: number;
  generated_at: string;
}

/** Audit entries a report carries at most (newest first); the answer must fit one stored request record. */
export const REPORT_AUDIT_LIMIT = 500;

type Deps = Pick<Services, "salts" | "audit" | "pepper" | "pseudonymizer" | "requests" | "clock">;

/**
 * salts-subjectReport, for a data-subject access request: the subject's current and retained salt
 * versions with the pseudonym of each given value under each (the strings the library gave under that
 * version, with the current pepper), the same under each named event type's retained global salts
 * (bound to the subject, with `user_id` itself added), the subject's audit entries, and whether the
 * subject was erased. Never creates a salt. It is itself audited; with a request_id, a retry gets the
 * first report.
 */
export async function subjectReport(deps: Deps, ctx: CallContext, input: SubjectReportInput) {
  const userId = assertSaltId("user", input.user_id);
  const values = input.values ?? {};
  const now = deps.clock();
  const pepper = await deps.pepper.current();
  const [user, history, trail, erasures] = await Promise.all([
    deps.salts.get("user", userId),
    deps.salts.history("user", userId),
    subjectEntries(deps, userId),
    deps.audit.listAudit({ targetId: userId, operation: "erase", result: "success", limit: 20 }),
  ]);
  const erase = erasures.items.find((e) => e.target.kind === "user");
  const report: SubjectReport = {
    user_id: userId,
    state: user ? "active" : erase ? "erased" : "unknown",
    ...(user ? { salt: toMetadata(user.record, now) } : {}),
    versions: [],
    globals: [],
    ...(erase ? { erased_at: erase.at } : {}),
    audit: trail.entries,
    audit_truncated: trail.truncated,
    pepper_version: pepper.version,
    generated_at: now.toISOString(),
  };
  if (user) {
    const under = (version: number, salt: Buffer) =>
      pseudonymsUnder(deps, pepper, "user", "", version, salt, null, values);
    report.versions.push({
      version: user.record.version,
      created_at: user.record.last_rotated.toISOString(),
      pseudonyms: under(user.record.version, user.salt),
    });
    for (const v of history) {
      const salt = await deps.salts.getVersion("user", userId, v.version);
      if (!salt) continue;
      report.versions.push({
        version: v.version,
        created_at: v.created_at.toISOString(),
        retired_at: v.retired_at.toISOString(),
        pseudonyms: under(v.version, salt),
      });
    }
    // Global pseudonyms are bound to the subject's shred secret: without one (erased), there are none.
    if (user.shred) {
      const bound = { ...values, user_id: userId };
      for (const eventType of new Set(input.event_types ?? []))
        report.globals.push(...(await globalVersions(deps, pepper, eventType, user, bound)));
    }
  }
  await deps.audit.appendAudit({
    ...auditContext(ctx, "subject_report", input.reason),
    target: { kind: "user", id: userId },
    result: "success",
    details: {
      state: report.state,
      fields: Object.keys(values).length,
      event_types: input.event_types?.length ?? 0,
      versions: report.versions.length,
      globals: report.globals.length,
    },
  });
  if (!ctx.request) return report;
  // The entry is written first: a lost answer costs a second entry on retry, never a report without one.
  const stored = await deps.requests.claim(ctx.request.key, ctx.request.fingerprint, report);
  if (stored.fingerprint !== ctx.request.fingerprint) throw requestIdReused();
  return stored.answer as SubjectReport;
}

function pseudonymsUnder(
  deps: Pick<Deps, "pseudonymizer">,
  pepper: Pepper,
  kind: "user" | "global",
  scope: string,
  version: number,
  salt: Buffer,
  shred: Buffer | null,
  values: Values,
): Record<string, string> {
  const prefix = pseudonymPrefix(kind, version, pepper.version);
  const out: Record<string, string> = {};
  for (const [field, value] of Object.entries(values)) {
    const key = deps.pseudonymizer.boundKey(
      deps.pseudonymizer.fieldKey(kind, scope, field, salt, pepper),
      shred,
    );
    out[field] = pseudonymWithPrefix(prefix, key, value);
  }
  return out;
}

/** Every retained version of an event type's global salt (none if it does not exist), newest first. */
async function globalVersions(
  deps: Deps,
  pepper: Pepper,
  eventType: string,
  user: LoadedSalt,
  values: Values,
) {
  const current = await deps.salts.get("global", eventType);
  if (!current) return [];
  const versions = [{ version: current.record.version, salt: current.salt as Buffer | null }];
  for (const v of await deps.salts.history("global", eventType))
    versions.push({ version: v.version, salt: await deps.salts.getVersion("global", eventType, v.version) });
  return versions
    .filter((v): v is { version: number; salt: Buffer } => v.salt !== null)
    .map((v) => ({
      event_type: eventType,
      version: v.version,
      pseudonyms: pseudonymsUnder(deps, pepper, "global", eventType, v.version, v.salt, user.shred, values),
    }));
}

/** The subject's audit entries, newest first, up to REPORT_AUDIT_LIMIT. */
async function subjectEntries(deps: Pick<Deps, "audit">, userId: string) {
  const entries: AuditEntry[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await deps.audit.listAudit({ targetId: userId, limit: 250, cursor });
    entries.push(...page.items.filter((e) => e.target.kind === "user"));
    if (!page.nextCursor || entries.length > REPORT_AUDIT_LIMIT) break;
    cursor = page.nextCursor;
  }
  return { entries: entries.slice(0, REPORT_AUDIT_LIMIT), truncated: entries.length > REPORT_AUDIT_LIMIT };
}
