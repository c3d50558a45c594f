import { Option, type Command } from "commander";
import { batchEndpointUrl, bigqueryDdl } from "../../domain/bigquery";
import { isSaltServiceError, type Issue } from "../../domain/errors";
import { usage } from "../core/exits";
import type { Session } from "../core/session";
import type { Colors } from "../ui/colors";
import { keyValues, when, type Answer } from "../ui/output";
import { act, callAndPrint, examples, wholeNumber } from "./define";

/** The DDL of BigQuery's remote functions over salts-pseudonymizeBatch, printed for `bq query` or the console. */
function ddl(session: Session, opts: Record<string, unknown>): number {
  const project = session.projectOrNull();
  const url =
    typeof opts.url === "string"
      ? opts.url
      : project
        ? batchEndpointUrl({ projectId: project, region: session.opts.region })
        : null;
  if (!url) throw usage("No endpoint: pass --url, or --project (the Firebase project the service runs in)");
  try {
    const text = bigqueryDdl({
      dataset: String(opts.dataset),
      connection: String(opts.connection),
      url,
      field: typeof opts.field === "string" ? opts.field : undefined,
      scope: typeof opts.scope === "string" ? opts.scope : undefined,
    });
    process.stdout.write(text);
  } catch (e) {
    if (!isSaltServiceError(e)) throw e;
    const issues = (e.details.issues ?? []) as Issue[];
    throw usage(issues.map((i) => `--${i.path} ${i.message}`).join("; "));
  }
  return 0;
}

function infoText(a: Answer, c: Colors): string {
  const jobs = a.recent_jobs as {
    caller: string | null;
    session_user: string;
    mode: string;
    first_seen: string;
  }[];
  const invokers = a.invokers as string[];
  return `${keyValues(
    [
      ["Endpoint", String(a.endpoint)],
      ["Invokers", invokers.length > 0 ? invokers.join(", ") : c.red("none: every call is refused")],
      ["Batch rows", `max_batching_rows ${String(a.max_batching_rows)} (at most ${String(a.max_calls)})`],
    ],
    c,
  )}\n${jobs.length === 0 ? "No BigQuery job has called it yet." : "Recent jobs:"}\n${jobs
    .map((j) => `  ${when(j.first_seen)}  ${j.session_user}  ${j.mode}  ${j.caller ?? "(no caller)"}`)
    .join("\n")}`;
}

export function registerBigqueryCommands(program: Command): void {
  const bq = examples(
    program
      .command("bigquery")
      .description("Pseudonyms in BigQuery: the remote functions' DDL, the endpoint, recent jobs"),
    [
      "salts bigquery ddl --dataset my-project.analytics --connection my-project.us.salts",
      "salts bigquery ddl --dataset p.partner_a --connection p.us.salts --scope partner-a",
      "salts bigquery info",
    ],
  );
  examples(
    act(
      bq
        .command("ddl")
        .description("Print the CREATE FUNCTION ... REMOTE statements (one per mode) for a dataset")
        .requiredOption("--dataset <project.dataset>", "where the functions are created")
        .requiredOption(
          "--connection <project.location.connection>",
          "the CLOUD_RESOURCE connection BigQuery calls through",
        )
        .option("--url <url>", "the endpoint (default: salts-pseudonymizeBatch of --project in --region)")
        .option("--field <name>", "the field name pseudonyms are made for (default: value)")
        .option(
          "--scope <scope_id>",
          "make the functions answer this scope's pairwise pseudonyms (salts scope put)",
        ),
      (session, _args, opts) => Promise.resolve(ddl(session, opts)),
    ),
    [
      "salts bigquery ddl --project my-project --dataset my-project.analytics --connection my-project.us.salts",
      "salts bigquery ddl --dataset p.ds --connection p.eu.salts --url https://europe-west1-p.cloudfunctions.net/salts-pseudonymizeBatch | bq query --use_legacy_sql=false",
    ],
  );
  examples(
    act(
      bq
        .command("info")
        .description("The endpoint, its invokers and the BigQuery jobs that used it recently")
        .addOption(new Option("--limit <n>", "jobs to list").argParser(wholeNumber(1, 100)).default(20)),
      async (session, _args, opts) => {
        await callAndPrint(session, "bigqueryInfo", { limit: opts.limit }, { human: infoText });
      },
    ),
    ["salts bigquery info", "salts bigquery info --json"],
  );
}
