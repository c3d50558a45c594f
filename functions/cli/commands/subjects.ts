import { Option, type Command } from "commander";
import { usage } from "../core/exits";
import type { Colors } from "../ui/colors";
import { confirmOrRefuse } from "../ui/confirm";
import { keyValues, plural, printAnswer, relativeTime, when, type Answer, type Column } from "../ui/output";
import { auditColumns, type AuditEntry } from "../ui/views";
import { act, callAndPrint, defined, examples, requestIdOption, wholeNumber, yesOption } from "./define";

/** subject-report, scopes, scope put|rotate (subject access and pairwise pseudonyms). */

interface ReportVersion {
  version: number;
  created_at: string;
  retired_at?: string;
  pseudonyms: Record<string, string>;
}
interface ReportGlobal {
  event_type: string;
  version: number;
  pseudonyms: Record<string, string>;
}

/** One pseudonym of the report per row: what a search of pseudonymized stores reads. */
interface ReportRow {
  salt: "user" | "global";
  event_type: string;
  version: number;
  current: boolean;
  field: string;
  pseudonym: string;
}

function reportRows(a: Answer): ReportRow[] {
  const rows: ReportRow[] = [];
  for (const v of a.versions as ReportVersion[])
    for (const [field, pseudonym] of Object.entries(v.pseudonyms))
      rows.push({
        salt: "user",
        event_type: "",
        version: v.version,
        current: !v.retired_at,
        field,
        pseudonym,
      });
  const newest = new Map<string, number>();
  for (const g of a.globals as ReportGlobal[])
    newest.set(g.event_type, Math.max(newest.get(g.event_type) ?? 0, g.version));
  for (const g of a.globals as ReportGlobal[])
    for (const [field, pseudonym] of Object.entries(g.pseudonyms))
      rows.push({
        salt: "global",
        event_type: g.event_type,
        version: g.version,
        current: newest.get(g.event_type) === g.version,
        field,
        pseudonym,
      });
  return rows;
}

const reportColumns: Column<ReportRow>[] = [
  { header: "SALT", value: (r) => r.salt },
  { header: "EVENT_TYPE", value: (r) => r.event_type },
  { header: "VERSION", value: (r) => r.version },
  { header: "CURRENT", value: (r) => r.current },
  { header: "FIELD", value: (r) => r.field },
  { header: "PSEUDONYM", value: (r) => r.pseudonym },
];

function reportText(a: Answer, c: Colors): string {
  const state = String(a.state);
  const pairs: [string, string][] = [
    ["Subject", String(a.user_id)],
    ["State", state === "active" ? c.green(state) : state === "erased" ? c.yellow(state) : state],
  ];
  if (a.erased_at) pairs.push(["Erased at", when(a.erased_at as string)]);
  pairs.push(
    ["Salt versions", String((a.versions as unknown[]).length)],
    ["Global versions", String((a.globals as unknown[]).length)],
    ["Audit entries", `${(a.audit as unknown[]).length}${a.audit_truncated ? " (newest only)" : ""}`],
    ["Generated", when(a.generated_at as string)],
  );
  return keyValues(pairs, c);
}

/** `--value email=a@b.c` (a string) and `--json-value age=42` (any JSON scalar) into the request's values. */
function valuesOf(texts: string[], jsons: string[]): Record<string, string | number | boolean> | undefined {
  const out: Record<string, string | number | boolean> = {};
  const split = (raw: string, flag: string): [string, string] => {
    const at = raw.indexOf("=");
    if (at < 1) throw usage(`${flag} takes field=value (got "${raw}")`);
    return [raw.slice(0, at), raw.slice(at + 1)];
  };
  for (const raw of texts) {
    const [field, value] = split(raw, "--value");
    out[field] = value;
  }
  for (const raw of jsons) {
    const [field, text] = split(raw, "--json-value");
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw usage(`--json-value ${field}: "${text}" is not JSON`);
    }
    if (!["string", "number", "boolean"].includes(typeof value))
      throw usage(`--json-value ${field}: a string, number or boolean`);
    out[field] = value as string | number | boolean;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface ScopeMetadata {
  scope_id: string;
  description: string;
  rotation_days: number;
  version: number;
  last_rotated: string;
  next_rotation: string;
  due: boolean;
  consumers: string[];
}

const scopeColumns: Column<ScopeMetadata>[] = [
  { header: "SCOPE", value: (s) => s.scope_id },
  { header: "VERSION", value: (s) => s.version },
  { header: "ROTATION_DAYS", value: (s) => s.rotation_days },
  { header: "NEXT_ROTATION", value: (s) => s.next_rotation, show: (s) => relativeTime(s.next_rotation) },
  { header: "DUE", value: (s) => s.due, show: (s, c) => (s.due ? c.yellow("yes") : "no") },
  { header: "CONSUMERS", value: (s) => s.consumers.join(" ") },
  { header: "DESCRIPTION", value: (s) => s.description },
];

function scopeText(verb: (a: Answer) => string) {
  return (a: Answer, c: Colors): string => {
    const s = a.scope as ScopeMetadata;
    const pairs: [string, string][] = [
      ["Scope", s.scope_id],
      ["Version", String(s.version)],
      ["Rotates", `every ${plural(s.rotation_days, "day")}, next ${when(s.next_rotation)}`],
      ["Consumers", s.consumers.length ? s.consumers.join(", ") : c.dim("(none)")],
      ["Description", s.description || "-"],
    ];
    if (a.rotation_id) pairs.push(["Rotation id", String(a.rotation_id)]);
    return `${c.green("✓")} ${verb(a)}\n${keyValues(pairs, c)}`;
  };
}

export function registerSubjectCommands(program: Command): void {
  examples(
    act(
      program
        .command("subject-report")
        .description(
          "Subject access report: every retained salt version with the pseudonyms of the given values (audited)",
        )
        .argument("<user_id>", "the subject's user id (Firebase uid)")
        .option("--value <field=text>", "a value to pseudonymize as a string (repeat)", collect, [])
        .option(
          "--json-value <field=json>",
          "a value given as JSON: a number or boolean (repeat)",
          collect,
          [],
        )
        .option("--event-type <type>", "also under this event type's global salts (repeat)", collect, [])
        .requiredOption("--reason <text>", "why (the request's reference), kept in the audit entry")
        .addOption(requestIdOption()),
      (s, [userId], o) =>
        callAndPrint(
          s,
          "subjectReport",
          defined({
            user_id: userId,
            values: valuesOf(o.value as string[], o.jsonValue as string[]),
            event_types: (o.eventType as string[]).length ? o.eventType : undefined,
            reason: o.reason,
          }),
          {
            human: reportText,
            list: {
              items: reportRows,
              columns: reportColumns,
            },
          },
          o,
        ).then((a) => printAuditTail(a, s.format)),
    ),
    [
      "salts subject-report alice --value email=alice@example.com --reason 'DSAR 2026-17'",
      "salts subject-report alice --value email=a@b.c --event-type signup --output csv > alice.csv",
      "salts subject-report alice --json-value age=42 --reason 'DSAR 17' --output json",
    ],
  );

  examples(
    act(
      program
        .command("scopes")
        .description("List scopes (pairwise pseudonym audiences): version, interval, consumers")
        .addOption(new Option("--limit <n>", "scopes per page").argParser(wholeNumber(1, 500)).default(100))
        .option("--cursor <cursor>", "start after this cursor (from the previous page)"),
      (s, _args, o) =>
        callAndPrint(s, "scopes", defined({ limit: o.limit, cursor: o.cursor }), {
          list: {
            items: (a) => a.scopes as ScopeMetadata[],
            columns: scopeColumns,
            footer: (a) => (a.next_cursor ? `more: salts scopes --cursor ${String(a.next_cursor)}` : null),
          },
        }).then(() => undefined),
    ),
    ["salts scopes", "salts scopes --output csv > scopes.csv"],
  );

  const scope = examples(program.command("scope").description("Create, change or rotate one scope"), [
    "salts scope put partner-a --rotation-days 30 --consumer bq@my-project.iam.gserviceaccount.com --reason onboarding",
    "salts scope rotate partner-a --reason 'partner asked' --yes",
  ]);
  const put = act(
    scope
      .command("put")
      .description("Create a scope, or replace its description, interval and consumers (its secret stays)")
      .argument("<scope_id>", "1 to 40 characters of [a-z0-9_-]")
      .requiredOption("--rotation-days <n>", "days between rotations (1 to 3650)", wholeNumber(1, 3650))
      .option("--description <text>", "what the audience is", "")
      .option(
        "--consumer <email|uid>",
        "a service account or Firebase uid allowed to use it (repeat)",
        collect,
        [],
      )
      .requiredOption("--reason <text>", "why, kept in the audit entry")
      .addOption(requestIdOption()),
    (s, [scopeId], o) =>
      callAndPrint(
        s,
        "putScope",
        {
          scope_id: scopeId,
          description: o.description,
          rotation_days: o.rotationDays,
          consumers: o.consumer,
          reason: o.reason,
        },
        { human: scopeText((a) => (a.created ? "Created scope" : "Updated scope")) },
        o,
      ).then(() => undefined),
  );
  const rotate = act(
    scope
      .command("rotate")
      .description("Rotate a scope now: every subject's pseudonyms in it change at once (asks first)")
      .argument("<scope_id>", "the scope")
      .requiredOption("--reason <text>", "why, kept in the audit entry")
      .addOption(yesOption())
      .addOption(requestIdOption()),
    async (s, [scopeId], o) => {
      await confirmOrRefuse(`rotate scope ${scopeId} (every pseudonym in it changes)`, o.yes as boolean);
      await callAndPrint(
        s,
        "rotateScope",
        { scope_id: scopeId, reason: o.reason },
        { human: scopeText((a) => `Rotated scope to version ${(a.scope as ScopeMetadata).version}`) },
        o,
      );
    },
  );
  examples(put, [
    "salts scope put partner-a --rotation-days 30 --consumer bq@my-project.iam.gserviceaccount.com --reason onboarding",
    "salts scope put partner-a --rotation-days 7 --consumer uid-123 --consumer uid-456 --reason 'weekly now'",
  ]);
  examples(rotate, ["salts scope rotate partner-a --reason 'partner asked' --yes"]);
}

/** Under the human report, the subject's audit entries as a table (json and csv carry them as data). */
async function printAuditTail(a: Answer, format: string): Promise<void> {
  if (format !== "human") return;
  process.stdout.write("\n");
  await printAnswer(a, { list: { items: () => a.audit as AuditEntry[], columns: auditColumns } }, "human");
}
