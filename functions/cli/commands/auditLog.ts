import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { Option, type Command } from "commander";
import { EXIT, usage } from "../core/exits";
import type { Session } from "../core/session";
import { colorsFor } from "../ui/colors";
import { csvText, plural, printAnswer, type Answer } from "../ui/output";
import { auditColumns, auditCsvColumns, type AuditEntry } from "../ui/views";
import { act, callAndPrint, defined, examples, wholeNumber } from "./define";

/** audit-log (a page, or every page streamed by export) and audit-verify. */
const filterOptions = (cmd: Command): Command =>
  cmd
    .option("--target <id>", "only entries about this target (user id, event type, job id)")
    .option("--operation <name>", "only this operation (rotate_user, erase, reload, sweep, ...)");

/** "2026-11-01", an ISO time, or an age: "90m", "24h", "7d". */
export function parseSince(value: string, now = Date.now()): number {
  const age = /^(\d+)([mhd])$/.exec(value);
  if (age)
    return now - Number(age[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[age[2] as "m" | "h" | "d"];
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw usage(`"${value}" is not a time: use 2026-11-01, an ISO time, or an age like 7d, 24h, 90m`);
  return t;
}

async function exportLog(s: Session, o: Record<string, unknown>): Promise<void> {
  const format = s.format === "human" ? "csv" : s.format;
  if (format === "json")
    throw usage("audit-log export streams csv or jsonl; use --output csv or --output jsonl");
  const since = typeof o.since === "string" ? parseSince(o.since) : null;
  const until = typeof o.until === "string" ? parseSince(o.until) : null;
  const out = typeof o.file === "string" ? createWriteStream(o.file) : process.stdout;
  const put = async (chunk: string) => {
    if (chunk && !out.write(chunk)) await once(out, "drain");
  };
  let cursor: string | undefined;
  let exported = 0;
  let pages = 0;
  for (let more = true; more;) {
    const page = await s.call(
      "auditLog",
      defined({ limit: o.pageSize, cursor, target_id: o.target, operation: o.operation }),
    );
    pages++;
    const entries = page.entries as AuditEntry[];
    // Entries come newest first: once one is older than --since, every later page is too.
    const keep = entries.filter(
      (e) => (since === null || Date.parse(e.at) >= since) && (until === null || Date.parse(e.at) <= until),
    );
    const olderThanSince = since !== null && entries.some((e) => Date.parse(e.at) < since);
    await put(
      format === "csv"
        ? await csvText(keep, auditCsvColumns, pages === 1)
        : keep.map((e) => `${JSON.stringify(e)}\n`).join(""),
    );
    exported += keep.length;
    cursor = typeof page.next_cursor === "string" ? page.next_cursor : undefined;
    more = cursor !== undefined && !olderThanSince;
  }
  if (out !== process.stdout) {
    out.end();
    await once(out, "finish");
  }
  if (process.stderr.isTTY) {
    const to = typeof o.file === "string" ? ` to ${o.file}` : "";
    process.stderr.write(
      `${colorsFor(process.stderr).dim(`exported ${plural(exported, "entry").replace(/ys$/, "ies")} (${plural(pages, "page")})${to}`)}\n`,
    );
  }
}

function verifyText(a: Answer, c: ReturnType<typeof colorsFor>): string {
  const checked = `${plural(Number(a.checked_entries), "entry").replace(/ys$/, "ies")} over ${plural(Number(a.checked_targets), "target")}`;
  return a.intact
    ? `${c.green("✓")} audit trail intact: ${checked} checked`
    : `${c.red("✗")} audit trail NOT intact: ${checked} checked`;
}

export function registerAuditLogCommands(program: Command): void {
  const log = examples(
    act(
      filterOptions(
        program
          .command("audit-log")
          .description("Page through the audit log, newest first (see also: salts audit-log export)")
          .addOption(
            new Option("--limit <n>", "entries per page").argParser(wholeNumber(1, 500)).default(100),
          )
          .option("--cursor <cursor>", "start after this cursor (from the previous page)"),
      ),
      (s, _args, o) =>
        callAndPrint(
          s,
          "auditLog",
          defined({ limit: o.limit, cursor: o.cursor, target_id: o.target, operation: o.operation }),
          {
            list: {
              items: (a) => a.entries as AuditEntry[],
              columns: s.format === "csv" ? auditCsvColumns : auditColumns,
              footer: (a) =>
                a.next_cursor ? `more: salts audit-log --cursor ${String(a.next_cursor)}` : null,
            },
          },
        ).then(() => undefined),
    ),
    [
      "salts audit-log",
      "salts audit-log --target alice --limit 20",
      "salts audit-log --operation erase --json | jq '.entries[].actor'",
    ],
  );

  examples(
    act(
      filterOptions(
        log
          .command("export")
          .description("Stream every matching audit entry as csv (default) or jsonl, page by page")
          .option(
            "--since <time>",
            "only entries at or after this time (2026-11-01, ISO time, or 7d/24h/90m ago)",
          )
          .option("--until <time>", "only entries at or before this time")
          .option("--file <path>", "write to this file instead of stdout")
          .addOption(
            new Option("--page-size <n>", "entries fetched per call")
              .argParser(wholeNumber(1, 500))
              .default(500),
          ),
      ),
      (s, _args, o) => exportLog(s, o),
    ),
    [
      "salts audit-log export > audit.csv",
      "salts audit-log export --output jsonl --since 7d | jq -c 'select(.result != \"success\")'",
      "salts audit-log export --operation erase --file erasures.csv",
    ],
  );

  examples(
    act(
      program
        .command("audit-verify")
        .description("Check that the audit trail is intact: nothing changed, removed or reordered")
        .option("--target <id>", "check only this target's entries")
        .addOption(new Option("--limit <n>", "entries checked per call").argParser(wholeNumber(1, 10_000)))
        .option("--cursor <cursor>", "continue from this cursor"),
      async (s, _args, o) => {
        const answer = await s.call(
          "auditVerify",
          defined({ target_id: o.target, limit: o.limit, cursor: o.cursor }),
        );
        await printAnswer(
          answer,
          {
            human: verifyText,
            list: {
              items: (a) => a.breaks as Answer[],
              columns: [
                { header: "ENTRY", value: (b) => (b.entry_id as string | undefined) ?? "" },
                {
                  header: "TARGET",
                  value: (b) => {
                    const t = b.target as { kind: string; id: string };
                    return `${t.kind}:${t.id}`;
                  },
                },
                { header: "PROBLEM", value: (b) => String(b.problem) },
              ],
              footer: (a) =>
                a.next_cursor ? `more to check: salts audit-verify --cursor ${String(a.next_cursor)}` : null,
            },
          },
          s.format,
        );
        return answer.intact ? undefined : EXIT.mismatch;
      },
    ),
    ["salts audit-verify", "salts audit-verify --target alice", "salts audit-verify --json | jq .intact"],
  );
}
