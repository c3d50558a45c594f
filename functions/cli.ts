#!/usr/bin/env node
/**
 * The operators' CLI: the same use cases as the callables, run with the
 * operator's own Google credentials (or against the emulators when
 * FIRESTORE_EMULATOR_HOST is set). Every mutation is audited with via "cli".
 *
 *   salts status
 *   salts rotate-user <user_id> [--force] [--reason TEXT]
 *   salts rotate-global <event_type> [--force] [--reason TEXT]
 *   salts rotate-due [--kind user|global|all] [--limit N] [--dry-run]
 *   salts job <job_id>
 *   salts audit <user_id>
 *   salts audit-log [--limit N] [--cursor C] [--target ID] [--operation OP]
 *   salts erase <user_id> --reason TEXT
 *   salts config stage [--user-days N] [--global-days N]   (takes effect on reload)
 *   salts config reload
 *   salts sweep
 *
 * Exit status: 0 ok, 2 invalid arguments, 3 not found, 4 precondition, 5 unavailable, 1 otherwise.
 */
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { composeServices } from "./app/compose";
import { invalidArgument, isSaltServiceError, SaltServiceError } from "./domain/errors";
import { parseRequest, schemas } from "./edge/schemas";
import { auditLog, auditUser } from "./usecases/audit";
import type { CallContext, Services } from "./usecases/deps";
import { eraseUser } from "./usecases/erase";
import { startRotateDue } from "./usecases/jobs/rotation";
import { jobStatus } from "./usecases/jobs/status";
import { reloadConfig, stageIntervals } from "./usecases/reloadConfig";
import { rotateSalt } from "./usecases/rotateSalt";
import { getStatus } from "./usecases/status";
import { runSweep } from "./usecases/sweep";

const EXIT: Record<string, number> = {
  "invalid-argument": 2,
  "not-found": 3,
  "failed-precondition": 4,
  unavailable: 5,
};

type Command = (rt: Services, ctx: CallContext, args: string[], flags: Flags) => Promise<unknown>;
type Flags = Record<string, string | boolean | undefined>;

const num = (v: string | boolean | undefined): number | undefined =>
  typeof v === "string" ? Number(v) : undefined;
const str = (v: string | boolean | undefined): string | undefined => (typeof v === "string" ? v : undefined);

function positional(args: string[], name: string): string {
  const v = args[0];
  if (v === undefined) throw invalidArgument([{ path: name, message: "is required" }]);
  return v;
}

const commands: Record<string, Command> = {
  status: (rt) => getStatus(rt),
  "rotate-user": (rt, ctx, args, f) => {
    const i = parseRequest(schemas.rotateUser, {
      user_id: positional(args, "user_id"),
      force: f.force === true,
      reason: str(f.reason),
    });
    return rotateSalt(rt, ctx, "user", i.user_id, i);
  },
  "rotate-global": (rt, ctx, args, f) => {
    const i = parseRequest(schemas.rotateGlobal, {
      event_type: positional(args, "event_type"),
      force: f.force === true,
      reason: str(f.reason),
    });
    return rotateSalt(rt, ctx, "global", i.event_type, i);
  },
  "rotate-due": (rt, ctx, _args, f) =>
    startRotateDue(
      rt,
      ctx,
      parseRequest(schemas.rotateDue, {
        kind: str(f.kind),
        limit: num(f.limit),
        dry_run: f["dry-run"] === true,
      }),
    ),
  job: (rt, _ctx, args) =>
    jobStatus(rt, parseRequest(schemas.job, { job_id: positional(args, "job_id") }).job_id),
  audit: (rt, ctx, args) =>
    auditUser(rt, ctx, parseRequest(schemas.audit, { user_id: positional(args, "user_id") }).user_id),
  "audit-log": (rt, _ctx, _args, f) =>
    auditLog(
      rt,
      parseRequest(schemas.auditLog, {
        limit: num(f.limit),
        cursor: str(f.cursor),
        target_id: str(f.target),
        operation: str(f.operation),
      }),
    ),
  erase: (rt, ctx, args, f) => {
    const i = parseRequest(schemas.erase, { user_id: positional(args, "user_id"), reason: str(f.reason) });
    return eraseUser(rt, ctx, i.user_id, i.reason);
  },
  config: async (rt, ctx, args, f) => {
    if (args[0] === "reload") return reloadConfig(rt, ctx);
    if (args[0] !== "stage") throw invalidArgument([{ path: "config", message: "takes stage or reload" }]);
    const pending = { user_days: num(f["user-days"]), global_days: num(f["global-days"]) };
    for (const [k, v] of Object.entries(pending)) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= 3650)) {
        throw invalidArgument([{ path: k, message: "must be a whole number of days from 1 to 3650" }]);
      }
    }
    return stageIntervals(rt, ctx, pending);
  },
  sweep: (rt, ctx) => runSweep(rt, { ...ctx, actor: { ...ctx.actor, via: "cli" } }),
};

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      force: { type: "boolean" },
      "dry-run": { type: "boolean" },
      reason: { type: "string" },
      kind: { type: "string" },
      limit: { type: "string" },
      cursor: { type: "string" },
      target: { type: "string" },
      operation: { type: "string" },
      "user-days": { type: "string" },
      "global-days": { type: "string" },
      operator: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [name, ...rest] = positionals;
  const command = name ? commands[name] : undefined;
  if (values.help || !command) {
    process.stderr.write(`usage: salts <${Object.keys(commands).join("|")}> [args] [--operator NAME]\n`);
    return values.help ? 0 : 2;
  }
  const ctx: CallContext = {
    correlationId: `cli-${Date.now().toString(36)}`,
    actor: { uid: values.operator ?? `cli:${userInfo().username}`, via: "cli" },
  };
  try {
    const rt = composeServices();
    await rt.policy.refresh(true);
    const out = await command(rt, ctx, rest, values);
    process.stdout.write(
      `${JSON.stringify({ ...(out as object), correlation_id: ctx.correlationId }, null, 2)}\n`,
    );
    return 0;
  } catch (e) {
    const err = isSaltServiceError(e) ? e : new SaltServiceError("internal", "Internal error");
    process.stderr.write(
      `${JSON.stringify({ code: err.code, message: err.message, details: err.details, correlation_id: ctx.correlationId })}\n`,
    );
    return EXIT[err.code] ?? 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    () => process.exit(1),
  );
}
