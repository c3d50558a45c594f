import { usage } from "../core/exits";
import { colorsFor, type Colors } from "./colors";

/** What stdout carries: human text (tables, key/value blocks), or data for programs. */
export type Format = "human" | "json" | "jsonl" | "csv";

export const FORMATS = ["table", "json", "jsonl", "csv"] as const;

export function formatOf(opts: { json?: boolean; output?: string }): Format {
  if (opts.json) return "json";
  const o = opts.output ?? "table";
  if (o === "table") return "human";
  if (o === "json" || o === "jsonl" || o === "csv") return o;
  throw usage(`--output must be one of ${FORMATS.join(", ")} (got "${o}")`);
}

export type Cell = string | number | boolean | null | undefined;

/** One column of a list: its header, its raw value (csv), and optionally how a human sees it. */
export interface Column<T> {
  header: string;
  value: (item: T) => Cell;
  show?: (item: T, c: Colors) => string;
}

export interface ListView<T> {
  items: (answer: Answer) => T[];
  columns: Column<T>[];
  /** Said (on stderr) under a human table, e.g. how to get the next page. */
  footer?: (answer: Answer) => string | null;
}

export type Answer = Record<string, unknown>;

/** How one command's answer is shown: a human rendering, and for lists, rows. */
export interface View<T = never> {
  human?: (answer: Answer, c: Colors) => string;
  list?: ListView<T>;
}

const write = (text: string): void => {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
};

export const cellText = (v: Cell): string => (v === null || v === undefined ? "" : String(v));

// What a spreadsheet reads as the start of a formula (OWASP "CSV Injection"), fullwidth forms included.
const FORMULA = "=+\\-@\\t\\r\\uFF1D\\uFF0B\\uFF0D\\uFF20";
// A formula start at the start of the cell, or after anything a spreadsheet may split a line on (a `,`, a
// `;` in a `;` locale, a tab, a line break), quotes and blanks skipped: either could begin a cell.
const FORMULA_IN_CELL = new RegExp(`(^|[,;\\t\\r\\n])(["\\s]*)(?=[${FORMULA}])`, "g");

/** A cell with an apostrophe before every place a spreadsheet could start a formula. */
export const formulaSafe = (cell: string): string => cell.replace(FORMULA_IN_CELL, "$1$2'");

/**
 * Rows as CSV text (RFC 4180), with a header line when asked. Cells come from users (ids, reasons): as
 * OWASP's CSV injection guidance asks, wherever a spreadsheet could start a cell (the start, or after a
 * `,`, `;`, tab or line break inside it, whichever separator its locale splits on) a formula start
 * (= + - @ tab CR) gets an apostrophe before it, and a cell holding `;` or a tab is quoted as one holding
 * `,` is. `--output jsonl` keeps every value exactly.
 */
export async function csvText<T>(items: T[], columns: Column<T>[], header: boolean): Promise<string> {
  const { stringify } = await import("csv-stringify/sync");
  const rows = items.map((item) => columns.map((col) => formulaSafe(cellText(col.value(item)))));
  return stringify(rows, {
    header,
    columns: columns.map((col) => col.header.toLowerCase()),
    quoted_match: /[;\t]|^\s|\s$/,
  });
}

/** A borderless table in the style of gh and kubectl: bold headers, aligned columns. */
export async function tableText<T>(items: T[], columns: Column<T>[], c: Colors): Promise<string> {
  const { default: Table } = await import("cli-table3");
  const table = new Table({
    head: columns.map((col) => c.bold(col.header)),
    style: { head: [], border: [], "padding-left": 0, "padding-right": 2 },
    chars: {
      top: "",
      "top-mid": "",
      "top-left": "",
      "top-right": "",
      bottom: "",
      "bottom-mid": "",
      "bottom-left": "",
      "bottom-right": "",
      left: "",
      "left-mid": "",
      mid: "",
      "mid-mid": "",
      right: "",
      "right-mid": "",
      middle: "",
    },
  });
  for (const item of items) {
    table.push(columns.map((col) => (col.show ? col.show(item, c) : cellText(col.value(item)))));
  }
  return table.toString().replace(/[ \t]+$/gm, "");
}

/** Prints a command's answer in the chosen format; nothing else ever goes to stdout. */
export async function printAnswer<T>(answer: Answer, view: View<T>, format: Format): Promise<void> {
  const list = view.list;
  if (format === "json") return write(JSON.stringify(answer, null, 2));
  if (format === "jsonl") {
    const items = list ? list.items(answer) : [answer];
    if (items.length > 0) write(items.map((i) => JSON.stringify(i)).join("\n"));
    return;
  }
  if (format === "csv") {
    if (!list) throw usage("--output csv is for commands that list things; use --json here");
    return write(await csvText(list.items(answer), list.columns, true));
  }
  const c = colorsFor(process.stdout);
  if (view.human) write(view.human(answer, c));
  if (list) {
    const items = list.items(answer);
    if (items.length > 0) write(await tableText(items, list.columns, c));
    else if (!view.human) write(c.dim("(none)"));
    const footer = list.footer?.(answer);
    if (footer) process.stderr.write(`${colorsFor(process.stderr).dim(footer)}\n`);
  }
}

/** An aligned key/value block: labels dim, values as given. */
export function keyValues(pairs: [string, string][], c: Colors): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${c.dim(k.padEnd(width))}  ${v}`).join("\n");
}

// Built on first use: loading the locale data costs ~20 ms that --help should not pay.
let relative: Intl.RelativeTimeFormat | null = null;
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400],
  ["month", 30 * 86_400],
  ["day", 86_400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/** "3 minutes ago", "in 89 days", "now". */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "";
  const seconds = (Date.parse(iso) - now) / 1000;
  if (Number.isNaN(seconds)) return iso;
  if (Math.abs(seconds) < 5) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") {
      relative ??= new Intl.RelativeTimeFormat("en", { numeric: "auto" });
      return relative.format(Math.round(seconds / size), unit);
    }
  }
  return iso;
}

/** An absolute UTC time with its relative form: "2026-11-25 13:37 UTC (3 minutes ago)". */
export function when(iso: string | null | undefined): string {
  if (!iso) return "-";
  const abs = iso.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, " UTC");
  return `${abs} (${relativeTime(iso)})`;
}

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
