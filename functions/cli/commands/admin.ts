import { Option, type Command } from "commander";
import type { Colors } from "../ui/colors";
import { keyValues, printAnswer, when, type Answer } from "../ui/output";
import { act, callAndPrint, defined, examples, waitDecisionOption, wholeNumber } from "./define";

/** forecast, config reload|stage, sweep. */
const intervalsText = (a: Answer, c: Colors, verb: string): string => {
  const i = a.rotation_intervals as { user_days: number; global_days: number };
  return `${c.green("✓")} ${verb}\n${keyValues(
    [
      ["User salts", `every ${i.user_days} days`],
      ["Global salts", `every ${i.global_days} days`],
      ["Reloaded", when(a.reloaded_at as string)],
    ],
    c,
  )}`;
};

function forecastText(a: Answer, c: Colors): string {
  const overdue = a.overdue as { users: number; globals: number };
  const buckets = a.buckets as { users: number; globals: number }[];
  const total = buckets.reduce((n, b) => n + b.users + b.globals, 0);
  return `${keyValues(
    [
      ["Overdue now", `${overdue.users} user, ${overdue.globals} global`],
      ["Coming due", `${total} over the next ${buckets.length} days (days with nothing due are not listed)`],
    ],
    c,
  )}\n`;
}

function sweepText(a: Answer, c: Colors): string {
  if (!a.ran) return `${c.yellow("skipped")}: another sweep holds the lease`;
  const job = a.job as { job_id: string; rotated: number; queued: number } | undefined;
  const due = a.due_after as { users: number; globals: number };
  return keyValues(
    [
      ["Rotation job", job ? `${job.job_id}: ${job.rotated} rotated, ${job.queued} queued` : "-"],
      ["Scanned", `${String(a.scanned)} salts${a.scan_complete ? "" : " (stopped early)"}`],
      ["Repaired", `${String(a.repaired_next_rotation)} next_rotation values`],
      [
        "Mismatches",
        `${String(a.rotation_count_mismatch)} rotation_count, ${String(a.previous_hash_mismatch)} previous hash`,
      ],
      ["Undecryptable", Number(a.undecryptable) ? c.red(String(a.undecryptable)) : "0"],
      ["History purged", String(a.history_purged)],
      ["Due after", `${due.users} user, ${due.globals} global`],
    ],
    c,
  );
}

export function registerAdminCommands(program: Command): void {
  examples(
    act(
      program
        .command("forecast")
        .description("How many salts come due on each of the next days (UTC)")
        .addOption(new Option("--days <n>", "days ahead").argParser(wholeNumber(1, 366)).default(90))
        .addOption(new Option("--kind <kind>", "which salts").choices(["user", "global", "all"])),
      (s, _args, o) =>
        callAndPrint(s, "forecast", defined({ days: o.days, kind: o.kind }), {
          human: forecastText,
          list: {
            items: (a) => {
              const all = a.buckets as Answer[];
              return s.format === "human" ? all.filter((b) => Number(b.users) + Number(b.globals) > 0) : all;
            },
            columns: [
              { header: "DATE", value: (b) => String(b.date) },
              { header: "USERS", value: (b) => Number(b.users) },
              { header: "GLOBALS", value: (b) => Number(b.globals) },
            ],
          },
        }).then(() => undefined),
    ),
    ["salts forecast", "salts forecast --days 30 --kind user --output csv > due.csv"],
  );

  const config = examples(
    program
      .command("config")
      .description("Rotation intervals: stage new values, then reload to put them in force"),
    ["salts config stage --user-days 45 --direct", "salts config reload"],
  );
  examples(
    act(
      config
        .command("reload")
        .description("Put the deployed params and any staged intervals in force on every instance")
        .addOption(waitDecisionOption()),
      (s) =>
        callAndPrint(
          s,
          "reloadConfig",
          {},
          { human: (a, c) => intervalsText(a, c, "Intervals reloaded") },
        ).then(() => undefined),
    ),
    ["salts config reload", "salts config reload --json"],
  );
  examples(
    act(
      config
        .command("stage")
        .description(
          "Stage interval overrides (direct mode); they take effect with the next reload. No flags: clear them",
        )
        .addOption(
          new Option("--user-days <n>", "days between user-salt rotations").argParser(wholeNumber(1, 3650)),
        )
        .addOption(
          new Option("--global-days <n>", "days between global-salt rotations").argParser(
            wholeNumber(1, 3650),
          ),
        ),
      async (s, _args, o) => {
        const direct = await s.direct("config stage", "the service has no callable for it");
        const { stageIntervals } = await import("../../usecases/reloadConfig.js");
        const { guard } = await import("../core/direct.js");
        const staged = await guard(() =>
          stageIntervals(direct.services, direct.context, {
            user_days: o.userDays as number | undefined,
            global_days: o.globalDays as number | undefined,
          }),
        );
        const answer = { ...staged, correlation_id: direct.context.correlationId };
        await printAnswer(
          answer,
          { human: (_a, c) => `${c.green("✓")} staged: ${JSON.stringify(staged.staged)}; ${staged.note}` },
          s.format,
        );
      },
    ),
    ["salts config stage --user-days 45 --direct", "salts config stage --direct   # clears staged values"],
  );

  examples(
    act(
      program
        .command("sweep")
        .description(
          "Run the integrity sweep now (direct mode): rotate what is due, check and repair invariants, purge history",
        )
        .addOption(
          new Option("--scan-limit <n>", "check at most this many salts").argParser(
            wholeNumber(1, 10_000_000),
          ),
        ),
      async (s, _args, o) => {
        const direct = await s.direct("sweep", "the deployed service runs it on its schedule");
        const [{ runSweep }, { guard }] = await Promise.all([
          import("../../usecases/sweep.js"),
          import("../core/direct.js"),
        ]);
        const report = await guard(() =>
          runSweep(direct.services, direct.context, defined({ scanLimit: o.scanLimit })).finally(() =>
            direct.services.events.flush(),
          ),
        );
        await printAnswer(
          { ...report, correlation_id: direct.context.correlationId },
          { human: sweepText },
          s.format,
        );
      },
    ),
    ["salts sweep --direct", "salts sweep --direct --json | jq .undecryptable"],
  );
}
