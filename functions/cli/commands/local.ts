import type { Command } from "commander";
import { CliError, EXIT, usage } from "../core/exits";
import { readRecords, recordFormat, RecordWriter, type DataRecord } from "../core/records";
import type { Session } from "../core/session";
import { colorsFor } from "../ui/colors";
import { plural, printAnswer, type Answer } from "../ui/output";
import { act, examples } from "./define";

/**
 * pseudonymize and verify local files with the library's own code, in this
 * process: the salts in storage and the pepper from the environment (or Secret
 * Manager), exactly as a function importing "./pseudonymize" would.
 */
const fieldList = (v: unknown): string[] | undefined =>
  typeof v === "string"
    ? v
        .split(",")
        .map((f) => f.trim())
        .filter(Boolean)
    : undefined;

const modeOptions = (cmd: Command): Command =>
  cmd
    .option(
      "--fields <list>",
      "comma-separated fields to pseudonymize (analytics default: user_id,anonymous_id,device_id,email,ip_address)",
    )
    .option("--user-field <name>", "the field holding each record's user id: its salt is used", "user_id")
    .option("--analytics", "records are analytics events: the salt of each record's event_type is used")
    .option("--format <format>", "input format, jsonl or csv (default: from the file name, else jsonl)");

/** Where a record's salt comes from, and which fields are pseudonyms. */
function plan(o: Record<string, unknown>) {
  const fields = fieldList(o.fields);
  if (!o.analytics && !fields?.length) throw usage("--fields is required (which fields to pseudonymize)");
  const userField = String(o.userField);
  return { fields, userField, analytics: o.analytics === true };
}

const atRecord = (n: number, e: unknown): unknown =>
  e instanceof CliError ? new CliError(e.code, `record ${n}: ${e.message}`, e.details, e.hint) : e;

async function pseudonymize(s: Session, file: string | undefined, o: Record<string, unknown>): Promise<void> {
  const p = plan(o);
  const inFormat = recordFormat(file, o.format);
  const outFormat = s.format === "csv" || s.format === "jsonl" ? s.format : inFormat;
  const { services } = await s.inProcess();
  const { guard } = await import("../core/direct.js");
  const writer = new RecordWriter(outFormat, o.file as string | undefined);
  let n = 0;
  for await (const record of readRecords(file, inFormat)) {
    n++;
    const out = await guard(async () => {
      if (p.analytics) {
        return (
          await services.pseudonymizer.pseudonymizeAnalyticsData(
            record as DataRecord & { event_type: string },
            p.fields,
          )
        ).data;
      }
      return (
        await services.pseudonymizer.pseudonymizeUserData(
          String(record[p.userField] ?? ""),
          record,
          p.fields!,
        )
      ).data;
    }).catch((e: unknown) => Promise.reject(atRecord(n, e)));
    await writer.write(out);
  }
  await writer.end();
  if (process.stderr.isTTY)
    process.stderr.write(`${colorsFor(process.stderr).dim(`pseudonymized ${plural(n, "record")}`)}\n`);
}

async function verify(
  s: Session,
  original: string,
  pseudonymized: string,
  o: Record<string, unknown>,
): Promise<number | void> {
  if (original === "-" && pseudonymized === "-") throw usage("only one of the two files can be stdin");
  const p = plan(o);
  const { services } = await s.inProcess();
  const { DEFAULT_ANALYTICS_FIELDS } = await import("../../engine/pseudonymizer.js");
  const { guard } = await import("../core/direct.js");
  const fields = p.fields ?? DEFAULT_ANALYTICS_FIELDS;
  const left = readRecords(original, recordFormat(original, o.format));
  const right = readRecords(pseudonymized, recordFormat(pseudonymized, o.format));
  const result = {
    records: 0,
    checked: 0,
    matched: 0,
    mismatched: [] as { record: number; field: string }[],
  };
  for (;;) {
    const [a, b] = await Promise.all([left.next(), right.next()]);
    if (a.done || b.done) {
      if (a.done !== b.done)
        throw usage(
          `the files have different numbers of records (${original} ${a.done ? "ended" : "goes on"} at record ${result.records + 1})`,
        );
      break;
    }
    const n = ++result.records;
    for (const field of fields) {
      const value = a.value[field];
      if (value === null || value === undefined) continue;
      result.checked++;
      const context = p.analytics
        ? { kind: "global" as const, eventType: String(a.value.event_type), field }
        : { kind: "user" as const, userId: String(a.value[p.userField] ?? ""), field };
      const ok = await guard(() =>
        services.pseudonymizer.verifyPseudonym(
          value as string | number | boolean,
          String(b.value[field] ?? ""),
          context,
        ),
      ).catch((e: unknown) => Promise.reject(atRecord(n, e)));
      if (ok) result.matched++;
      else result.mismatched.push({ record: n, field });
    }
  }
  const answer: Answer = { ...result };
  await printAnswer(
    answer,
    {
      human: (r, c) => {
        const head = `${plural(Number(r.checked), "value")} in ${plural(Number(r.records), "record")} checked`;
        return result.mismatched.length === 0
          ? `${c.green("✓")} ${head}: all match`
          : `${c.red("✗")} ${head}: ${result.mismatched.length} do not match`;
      },
      list: {
        items: () => result.mismatched,
        columns: [
          { header: "RECORD", value: (m) => m.record },
          { header: "FIELD", value: (m) => m.field },
        ],
      },
    },
    s.format,
  );
  return result.mismatched.length > 0 ? EXIT.mismatch : undefined;
}

export function registerLocalCommands(program: Command): void {
  examples(
    act(
      modeOptions(
        program
          .command("pseudonymize")
          .description("Pseudonymize chosen fields of a local jsonl or csv file (stdin by default) to stdout")
          .argument("[file]", "input file; - or nothing for stdin")
          .option("--file <path>", "write to this file instead of stdout"),
      ),
      (s, [file], o) => pseudonymize(s, file, o),
    ),
    [
      "salts pseudonymize users.csv --fields email,phone > users.pseudo.csv",
      "cat events.jsonl | salts pseudonymize --analytics > events.pseudo.jsonl",
      "salts pseudonymize data.jsonl --fields email --output csv --file out.csv",
    ],
  );
  examples(
    act(
      modeOptions(
        program
          .command("verify")
          .description(
            "Check that a pseudonymized file matches its original, record by record (exit 8 on any mismatch)",
          )
          .argument("<original>", "the original file (- for stdin)")
          .argument("<pseudonymized>", "the pseudonymized file (- for stdin)"),
      ),
      (s, [original, pseudonymized], o) => verify(s, original!, pseudonymized!, o),
    ),
    [
      "salts verify users.csv users.pseudo.csv --fields email,phone",
      "salts verify events.jsonl events.pseudo.jsonl --analytics --json",
    ],
  );
}
