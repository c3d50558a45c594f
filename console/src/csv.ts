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

// What a spreadsheet reads as the start of a formula (OWASP "CSV Injection"), fullwidth forms included;
// found at the start of the cell or after anything a spreadsheet may split a line on (`,`, `;` in a `;`
// locale, tab, line break), quotes and blanks skipped: either could begin a cell.
const FORMULA_IN_CELL = /(^|[,;\t\r\n])(["\s]*)(?=[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20])/g;

/**
 * One CSV cell, always in double quotes (quotes doubled), with an apostrophe before every place a
 * spreadsheet could start a formula, whichever separator its locale splits on: ids and reasons come
 * from users (OWASP CSV injection guidance). Same rule as the CLI's export.
 */
export function csvCell(value: unknown): string {
  const s = (value === null || value === undefined ? "" : String(value)).replace(FORMULA_IN_CELL, "$1$2'");
  return `"${s.replace(/"/g, '""')}"`;
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
