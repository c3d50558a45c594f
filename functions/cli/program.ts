import { readFileSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError, Option } from "commander";
import { registerAccessCommands } from "./commands/access";
import { registerAdminCommands } from "./commands/admin";
import { registerAuditLogCommands } from "./commands/auditLog";
import { registerBigqueryCommands } from "./commands/bigquery";
import { registerCompletionCommand } from "./commands/completion";
import { setRunner } from "./commands/define";
import { registerJobCommands } from "./commands/jobs";
import { registerLocalCommands } from "./commands/local";
import { registerSaltCommands } from "./commands/salts";
import { registerSessionCommands } from "./commands/session";
import { registerSubjectCommands } from "./commands/subjects";
import { CliError, EXIT, EXIT_HELP } from "./core/exits";
import { debugStack, redactSecrets, routeDiagnostics } from "./core/log";
import { Session, type GlobalOptions } from "./core/session";
import { setColorFlag } from "./ui/colors";
import { printError } from "./ui/errors";
import { FORMATS } from "./ui/output";

const version = (): string => {
  try {
    return (
      JSON.parse(readFileSync(path.join(__dirname, "../../package.json"), "utf8")) as { version: string }
    ).version;
  } catch {
    return "unknown";
  }
};

const ROOT_HELP = `
Modes:
  callable (default)  calls the deployed salts-* functions as you (salts login, or SALTS_ID_TOKEN);
                      uses the emulators when FUNCTIONS_EMULATOR_HOST / FIREBASE_AUTH_EMULATOR_HOST are set
  --direct            break-glass: runs the same operations in this process against Firestore, audited as
                      the identity of your Google credentials (ADC); secrets come from Secret Manager as
                      the functions read them (or, with PEPPER_SOURCE=runtime, from the environment)

Output:
  stdout carries only the answer: tables and key/value blocks for people, --json for the exact
  contract answer, --output jsonl|csv for lists. Diagnostics go to stderr, with --verbose.

Exit status:
${EXIT_HELP.map(([code, what]) => `  ${String(code).padStart(3)}  ${what}`).join("\n")}

Examples:
  $ salts login --project my-project --email ops@example.com
  $ salts status
  $ salts rotate due --dry-run
  $ salts audit-log export --since 7d > audit.csv
  $ salts <command> --help
`;

export function buildProgram(): Command {
  const program = new Command("salts")
    .description(
      "Operate the salt-and-pepper pseudonymization service: salts, rotations, jobs, audit, erasure.",
    )
    .version(version(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help for a command")
    .addOption(
      new Option(
        "--project <id>",
        "Firebase project (default: GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT, .firebaserc)",
      ).env("SALTS_PROJECT"),
    )
    .addOption(
      new Option("--region <region>", "region of the functions").env("SALTS_REGION").default("us-central1"),
    )
    .option("--direct", "break-glass: run in this process against storage, as your Google identity")
    .option("--json", "print the exact contract answer as JSON (errors as JSON on stderr)")
    .addOption(
      new Option("-o, --output <format>", "output format; jsonl and csv are for lists").choices(FORMATS),
    )
    .option("-v, --verbose", "print diagnostics and service logs on stderr")
    .option("--no-color", "no colours (NO_COLOR is honoured too)")
    .addOption(new Option("--timeout <seconds>", "seconds to wait for each answer").default("70"))
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .addHelpText("after", ROOT_HELP);

  program.commandsGroup("Salts:");
  registerSaltCommands(program);
  program.commandsGroup("Subjects and scopes:");
  registerSubjectCommands(program);
  program.commandsGroup("Batch jobs:");
  registerJobCommands(program);
  program.commandsGroup("Audit:");
  registerAuditLogCommands(program);
  program.commandsGroup("Configuration and maintenance:");
  registerAdminCommands(program);
  program.commandsGroup("Access and dual control:");
  registerAccessCommands(program);
  program.commandsGroup("BigQuery:");
  registerBigqueryCommands(program);
  program.commandsGroup("Local files (in-process):");
  registerLocalCommands(program);
  program.commandsGroup("Session and shell:");
  registerSessionCommands(program);
  registerCompletionCommand(program);
  for (const cmd of allCommands(program))
    cmd.exitOverride().showHelpAfterError("(run with --help for usage)");
  return program;
}

export function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

/** Parses, runs one command, and answers with the exit status. */
export async function run(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  setRunner(async (handler, args, opts) => {
    routeDiagnostics(opts.verbose === true);
    setColorFlag(opts.color !== false);
    let session: Session | null = null;
    try {
      session = new Session(opts as GlobalOptions);
      exitCode = (await handler(session, args, opts)) ?? EXIT.ok;
    } catch (e) {
      const error = e instanceof CliError ? e : unexpected(e, opts.verbose === true);
      printError(error, opts.json === true || opts.output === "json");
      exitCode = error.exitCode;
    } finally {
      await session?.close();
    }
  });
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  return exitCode;
}

function unexpected(e: unknown, verbose: boolean): CliError {
  debugStack(e);
  return new CliError(
    "internal",
    redactSecrets(`${(e as Error)?.message ?? String(e)}`),
    {},
    verbose ? undefined : "run with --verbose for details",
  );
}
