import type { AuditEntry } from "./types";

const COLUMNS = [
  "id",
  "at",
  "operation",
  "result",
  "target_kind",
  "target_id",
  "actor_uid",
  "actor_via",
  "reason",
  "rotation_id",
  "correlation_id",
  "details",
] as const;

/**
 * One CSV cell. Quoted when needed; a cell a spreadsheet would run as a formula
 * (=, +, -, @, tab, CR first) gets a leading apostrophe, since ids and reasons come from users.
 */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n']/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export function auditCsv(entries: AuditEntry[]): string {
  const rows = entries.map((e) =>
    [
      e.id,
      e.at,
      e.operation,
      e.result,
      e.target.kind,
      e.target.id,
      e.actor.uid,
      e.actor.via,
      e.reason ?? "",
      e.rotation_id ?? "",
      e.correlation_id,
      e.details ? JSON.stringify(e.details) : "",
    ]
      .map(csvCell)
      .join(","),
  );
  return `${[COLUMNS.join(","), ...rows].join("\r\n")}\r\n`;
}
