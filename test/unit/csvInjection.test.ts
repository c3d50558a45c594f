import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { auditCsv, csvCell } from "../../console/src/csv";
import type { AuditEntry } from "../../console/src/types";
import { csvText, type Column } from "../../functions/cli/ui/output";

// Cells an attacker chooses (user ids, event types, reasons), each trying to start a formula somewhere.
const HOSTILE = [
  '=HYPERLINK("http://evil.test","x")',
  "+1+cmd|' /C calc'!A0",
  "-2+3",
  "@SUM(A1:A9)",
  "\t=1+1",
  "\r=1+1",
  "ok;=cmd|' /C calc'!A0",
  'ok;"=1+1"',
  "ok,=1+1",
  'ok,"@SUM(1)"',
  "ok\t+1",
  "ok\n=1+1",
  "ok\r\n-1",
  "ok;  =1",
  "ok; \t@x",
  "\uFF1D1+1",
  "ok;\uFF0B1",
  " =1+1",
];
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * What a spreadsheet could take as cells of a line, at worst: the line split on every separator any
 * locale uses (`,`, `;`, tab) and on line breaks, with quotes ignored (a quote in the middle of a field
 * is literal to a spreadsheet splitting on another separator), leading quotes and blanks dropped.
 */
function worstCaseCells(text: string): string[] {
  return text
    .split(/[,;\t\r\n]/)
    .map((piece) => piece.replace(/^["\s]*/, ""))
    .filter((piece) => piece.length > 0);
}

const columns: Column<{ id: string; reason: string }>[] = [
  { header: "ID", value: (r) => r.id },
  { header: "REASON", value: (r) => r.reason },
];

const entry = (target: string, reason: string): AuditEntry => ({
  id: "e1",
  at: "2026-11-02T10:00:00.000Z",
  actor: { uid: "u1", via: "callable" },
  operation: "rotate_user",
  target: { kind: "user", id: target },
  result: "success",
  correlation_id: "c1",
  reason,
  details: { code: "ok;=1" },
});

describe("CSV output against formula injection, whatever separator the spreadsheet splits on", () => {
  it("when the CLI writes attacker-chosen cells, then no cell under any separator starts a formula", async () => {
    const text = await csvText(
      HOSTILE.map((h) => ({ id: h, reason: `r ${h}` })),
      columns,
      true,
    );
    const starts = worstCaseCells(text).filter((c) => FORMULA_START.test(c));
    expect(starts).toEqual([]);
  });

  it("when the console writes attacker-chosen cells, then no cell under any separator starts a formula", () => {
    const text = auditCsv(HOSTILE.map((h) => entry(h, h)));
    const starts = worstCaseCells(text).filter((c) => FORMULA_START.test(c));
    expect(starts).toEqual([]);
  });

  it("when the guard is removed (the bypass it blocks), then the same check finds formulas", () => {
    // The oracle itself must be able to fail: quoting alone leaves `;=` starting a cell in a `;` locale.
    const quotedOnly = HOSTILE.map((h) => `"${h.replace(/"/g, '""')}"`).join(",");
    expect(worstCaseCells(quotedOnly).filter((c) => FORMULA_START.test(c)).length).toBeGreaterThan(5);
  });

  it("when read back as RFC 4180, then each cell is the original with apostrophes added and nothing else", async () => {
    const cli = parse(
      await csvText(
        HOSTILE.map((h) => ({ id: h, reason: "plain" })),
        columns,
        true,
      ),
      { columns: true },
    ) as { id: string; reason: string }[];
    const console = parse(auditCsv(HOSTILE.map((h) => entry(h, h))), { columns: true }) as {
      target_id: string;
      reason: string;
    }[];
    HOSTILE.forEach((h, i) => {
      for (const cell of [cli[i]!.id, console[i]!.target_id, console[i]!.reason]) {
        expect(cell).not.toBe(h);
        expect(cell.replace(/'/g, "")).toBe(h.replace(/'/g, ""));
      }
    });
    expect(cli.map((r) => r.reason)).toEqual(HOSTILE.map(() => "plain"));
  });

  it("when cells are harmless, then the CLI writes them as before and the console quotes them", async () => {
    const text = await csvText([{ id: "user-1", reason: "quarterly, as planned" }], columns, true);
    expect(text).toBe('id,reason\nuser-1,"quarterly, as planned"\n');
    expect(csvCell("2026-11-02T10:00:00.000Z")).toBe('"2026-11-02T10:00:00.000Z"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell(null)).toBe('""');
  });
});
