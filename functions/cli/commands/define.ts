import { InvalidArgumentError, Option, type Command } from "commander";
import type { GlobalOptions, Session } from "../core/session";
import { printAnswer, type Answer, type View } from "../ui/output";

/** A command's work: given the session, its positional arguments and its flags; returns an exit status. */
export type Handler = (
  session: Session,
  args: string[],
  opts: Record<string, unknown>,
) => Promise<number | void>;

/** Runs handlers: set by program.ts, which owns sessions, errors and exit statuses. */
let runner:
  | ((handler: Handler, args: string[], opts: GlobalOptions & Record<string, unknown>) => Promise<void>)
  | null = null;

export function setRunner(r: typeof runner): void {
  runner = r;
}

export function act(cmd: Command, handler: Handler): Command {
  return cmd.action(async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const args = command.args.slice(0, command.registeredArguments.length);
    await runner!(handler, args, command.optsWithGlobals());
  });
}

/** Every command teaches by example: shown under its help. */
export function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText("after", `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`);
}

export function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

export const yesOption = () =>
  new Option("-y, --yes", "do not ask for confirmation (needed without a terminal)");
export const requestIdOption = () =>
  new Option(
    "--request-id <id>",
    "idempotency key: repeat a call whose outcome is unknown; the service does it at most once",
  );
/** For operations an approval policy can guard: wait for the second admin's decision (dual control). */
export const waitDecisionOption = () =>
  new Option("-w, --wait", "if a second admin must approve it, wait for the decision and print the result");
export const waitOptions = (cmd: Command): Command =>
  cmd
    .option(
      "-w, --wait",
      "follow the job until it ends, with progress on stderr (first waiting for a second admin, if guarded)",
    )
    .addOption(
      new Option("--interval <seconds>", "seconds between progress checks with --wait")
        .argParser(wholeNumber(1, 600))
        .default(2),
    );

/** Calls one operation and prints its answer in the chosen format. */
export async function callAndPrint<T>(
  session: Session,
  name: string,
  data: Record<string, unknown>,
  view: View<T>,
  opts: Record<string, unknown> = {},
): Promise<Answer> {
  const requestId = typeof opts.requestId === "string" ? opts.requestId : undefined;
  const answer = await session.call(name, data, { requestId });
  await printAnswer(answer, view, session.format);
  return answer;
}

/** Drops undefined fields so requests carry only what the operator gave. */
export const defined = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
