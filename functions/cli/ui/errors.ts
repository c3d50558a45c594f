import { CODE_WORDS, CliError } from "../core/exits";
import { colorsFor } from "./colors";

/**
 * One failure on stderr: `error: <code in plain words>: <message> (correlation id …)`,
 * the offending fields of an invalid argument, and a hint on what to do next.
 * With --json the same facts as one JSON object, for programs.
 */
export function printError(e: CliError, json: boolean): void {
  const correlationId = e.correlationId;
  if (json) {
    const error = { code: e.code, message: e.message, details: e.details, hint: e.hint ?? null };
    process.stderr.write(`${JSON.stringify({ error, correlation_id: correlationId ?? null })}\n`);
    return;
  }
  const c = colorsFor(process.stderr);
  // Waiting for a second admin is no failure: said as what it is.
  const label = e.code === "pending" ? c.yellow(c.bold("pending")) : c.red(c.bold("error"));
  const lines = [
    `${label}: ${CODE_WORDS[e.code]}: ${e.message}${
      correlationId ? c.dim(` (correlation id ${correlationId})`) : ""
    }`,
  ];
  const issues = Array.isArray(e.details.issues)
    ? (e.details.issues as { path?: unknown; message?: unknown }[])
    : [];
  for (const i of issues) lines.push(`  - ${String(i.path) || "(request)"}: ${String(i.message)}`);
  if (e.hint) lines.push(`${c.yellow("hint")}: ${e.hint}`);
  process.stderr.write(`${lines.join("\n")}\n`);
}
