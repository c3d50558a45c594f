#!/usr/bin/env node
/**
 * The `salts` command (package.json `bin`). Everything heavy (the service,
 * firebase-admin, tables, prompts) loads only when a command needs it, so
 * `salts --help` starts in well under a second.
 */
import { run } from "./program";

// A reader that goes away (`salts audit-log export | head`) ends the command quietly.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`error: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    process.exit(1);
  },
);
