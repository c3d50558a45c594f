import { Option, type Command } from "commander";
import { EXIT } from "../core/exits";
import type { Session } from "../core/session";
import type { Colors } from "../ui/colors";
import { confirmOrRefuse } from "../ui/confirm";
import { keyValues, printAnswer, relativeTime, type Answer } from "../ui/output";
import { waitForJob } from "../ui/progress";
import { jobBlock } from "../ui/views";
import { act, defined, examples, requestIdOption, waitOptions, wholeNumber, yesOption } from "./define";

/** Batch work: rotate due, rewrap, and following jobs (job, jobs). */
const jobView = { human: jobBlock };

/** After starting a job: follow it with --wait, else print the start answer. Exit 1 if it failed. */
async function startedJob(
  s: Session,
  started: Answer,
  human: (a: Answer, c: Colors) => string,
  o: Record<string, unknown>,
) {
  if (!o.wait || started.dry_run) {
    await printAnswer(started, { human }, s.format);
    return;
  }
  const job = await waitForJob(s, String(started.job_id), Number(o.interval) * 1000);
  await printAnswer(job, jobView, s.format);
  return job.state === "failed" ? EXIT.internal : undefined;
}

function rotateDueText(a: Answer, c: Colors): string {
  const due = a.due as { users: number; globals: number };
  const plan = `${due.users} user and ${due.globals} global salts due`;
  if (a.dry_run)
    return `${c.cyan("dry run")}: ${plan}; nothing was rotated\n${c.dim("run it: salts rotate due")}`;
  return keyValues(
    [
      ["Job", String(a.job_id)],
      ["Due", plan],
      [
        "Rotated",
        `${String(a.rotated)} now${Number(a.failed) ? `, ${c.red(`${String(a.failed)} failed`)}` : ""}`,
      ],
      [
        "Queued",
        Number(a.queued) ? `${String(a.queued)} (follow: salts job ${String(a.job_id)} --wait)` : "0",
      ],
    ],
    c,
  );
}

function rewrapText(a: Answer, c: Colors): string {
  if (a.dry_run)
    return `${c.cyan("dry run")}: ${String(a.total)} stored salts would be re-encrypted under the current key`;
  return keyValues(
    [
      ["Job", String(a.job_id)],
      ["Salts", `${String(a.total)} to re-encrypt under the current key (${String(a.mode)})`],
      ["Follow", `salts job ${String(a.job_id)} --wait`],
    ],
    c,
  );
}

export function registerJobCommands(program: Command): void {
  const rotate = program.commands.find((c) => c.name() === "rotate")!;
  examples(
    act(
      waitOptions(
        rotate
          .command("due")
          .description(
            "Plan (--dry-run) or run the rotation of every salt that is due; large sets run as a job",
          )
          .addOption(
            new Option("--kind <kind>", "which salts").choices(["user", "global", "all"]).default("all"),
          )
          .addOption(
            new Option("--limit <n>", "rotate at most this many").argParser(wholeNumber(1, 1_000_000)),
          )
          .option("--dry-run", "count what is due, change nothing")
          .addOption(yesOption())
          .addOption(requestIdOption()),
      ),
      async (s, _args, o) => {
        const data = defined({ kind: o.kind, limit: o.limit, dry_run: o.dryRun ? true : undefined });
        if (!o.dryRun) {
          await confirmOrRefuse("rotate every due salt", o.yes as boolean, async () => {
            const plan = await s.call("rotateDue", { ...data, dry_run: true });
            const due = plan.due as { users: number; globals: number };
            return `rotate ${due.users} user and ${due.globals} global due salts${o.limit ? ` (at most ${String(o.limit)})` : ""}`;
          });
        }
        const started = await s.call("rotateDue", data, { requestId: o.requestId as string | undefined });
        return startedJob(s, started, rotateDueText, o);
      },
    ),
    [
      "salts rotate due --dry-run",
      "salts rotate due --yes --wait",
      "salts rotate due --kind global --limit 1000 --yes --json",
    ],
  );

  examples(
    act(
      waitOptions(
        program
          .command("rewrap")
          .description("Re-encrypt every stored salt version under the current encryption key version")
          .option("--dry-run", "count what would be re-encrypted, change nothing")
          .addOption(yesOption())
          .addOption(requestIdOption()),
      ),
      async (s, _args, o) => {
        if (!o.dryRun)
          await confirmOrRefuse("re-encrypt every stored salt under the current key", o.yes as boolean);
        const started = await s.call("rewrap", defined({ dry_run: o.dryRun ? true : undefined }), {
          requestId: o.requestId as string | undefined,
        });
        return startedJob(s, started, rewrapText, o);
      },
    ),
    ["salts rewrap --dry-run", "salts rewrap --yes --wait"],
  );

  examples(
    act(
      waitOptions(
        program
          .command("job")
          .description("Show a batch job's progress")
          .argument("<job_id>", "the id rotate due or rewrap printed"),
      ),
      async (s, [jobId], o) => {
        const job = o.wait
          ? await waitForJob(s, jobId!, Number(o.interval) * 1000)
          : await s.call("job", { job_id: jobId });
        await printAnswer(job, jobView, s.format);
        return o.wait && job.state === "failed" ? EXIT.internal : undefined;
      },
    ),
    ["salts job 8f1c2d", "salts job 8f1c2d --wait", "salts job 8f1c2d --json | jq .state"],
  );

  examples(
    act(
      program
        .command("jobs")
        .description("List recent batch jobs, newest first")
        .addOption(new Option("--limit <n>", "jobs per page").argParser(wholeNumber(1, 100)).default(20))
        .option("--cursor <cursor>", "start after this cursor (from the previous page)"),
      async (s, _args, o) => {
        const answer = await s.call("listJobs", defined({ limit: o.limit, cursor: o.cursor }));
        await printAnswer(
          answer,
          {
            list: {
              items: (a) => a.jobs as Answer[],
              columns: [
                { header: "JOB", value: (j) => String(j.job_id) },
                { header: "TYPE", value: (j) => String(j.type ?? "rotation") },
                { header: "STATE", value: (j) => String(j.state) },
                { header: "DONE", value: (j) => Number(j.processed ?? j.rotated) },
                { header: "TOTAL", value: (j) => Number(j.total) },
                { header: "FAILED", value: (j) => Number(j.failed) },
                {
                  header: "STARTED",
                  value: (j) => String(j.started_at),
                  show: (j) => relativeTime(String(j.started_at)),
                },
              ],
              footer: (a) => (a.next_cursor ? `more: salts jobs --cursor ${String(a.next_cursor)}` : null),
            },
          },
          s.format,
        );
      },
    ),
    ["salts jobs", "salts jobs --output csv"],
  );
}
