import { CliError, usage } from "../core/exits";

/**
 * Destructive commands ask first. With --yes they do not ask; without a
 * terminal to ask on (and without --yes) they refuse rather than guess.
 * `question` may look something up first (how many salts are due); it runs
 * only when there is someone to ask.
 */
export async function confirmOrRefuse(
  action: string,
  yes: boolean | undefined,
  question: () => Promise<string> = async () => action,
): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw usage(`Refusing to ${action} without confirmation: no terminal to ask on`, "pass --yes to confirm");
  }
  const text = await question();
  const { default: confirm } = await import("@inquirer/confirm");
  let ok = false;
  try {
    ok = await confirm(
      { message: `${text[0]!.toUpperCase()}${text.slice(1)}?`, default: false },
      { output: process.stderr },
    );
  } catch {
    ok = false; // Ctrl-C at the prompt
  }
  if (!ok) throw new CliError("cancelled", "Nothing was done");
}
