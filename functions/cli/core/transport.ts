import { randomUUID } from "node:crypto";
import { CliError } from "./exits";
import { debug } from "./log";

export type Answer = Record<string, unknown> & { correlation_id: string };

/** How a call reaches the service: the deployed callables, or the same operations in-process. */
export interface Transport {
  readonly mode: "callable" | "direct";
  call(name: string, data: Record<string, unknown>): Promise<Answer>;
  close(): Promise<void>;
}

/** The mutating calls that take a `request_id`, so a retry after a lost answer is safe. */
const IDEMPOTENT = new Set([
  "rotateUser",
  "rotateGlobal",
  "rotateDue",
  "erase",
  "rewrap",
  "setRole",
  "setApprovals",
  "approve",
  "subjectReport",
  "putScope",
  "rotateScope",
]);
const ATTEMPTS = 3;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A service from before `request_id` refuses the field by name; the call then goes without it. */
const refusesRequestId = (e: CliError): boolean =>
  e.code === "invalid-argument" &&
  Array.isArray(e.details.issues) &&
  (e.details.issues as { path?: unknown }[]).some((i) => i.path === "request_id");

/**
 * Calls an operation: a fresh request_id on mutations (or the one given, to
 * learn the outcome of an earlier attempt), retries where the contract says
 * it is safe, and a hint on what to do when it is not.
 */
export async function invoke(
  transport: Transport,
  name: string,
  data: Record<string, unknown>,
  options: { requestId?: string } = {},
): Promise<Answer> {
  let requestId = IDEMPOTENT.has(name) ? (options.requestId ?? randomUUID()) : undefined;
  for (let attempt = 1; ; attempt++) {
    const body = requestId ? { ...data, request_id: requestId } : data;
    try {
      return await transport.call(name, body);
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      if (requestId && refusesRequestId(e)) {
        debug("the service does not take request_id yet; calling %s without it", name);
        requestId = undefined;
        continue;
      }
      // unavailable: the call certainly did nothing. deadline-exceeded: safe only with a request_id.
      const retry = e.code === "unavailable" || (e.code === "deadline-exceeded" && requestId !== undefined);
      if (retry && attempt < ATTEMPTS) {
        debug("%s answered %s; retrying (attempt %d)", name, e.code, attempt + 1);
        await sleep(500 * 2 ** (attempt - 1));
        continue;
      }
      throw withHint(e, requestId);
    }
  }
}

function withHint(e: CliError, requestId: string | undefined): CliError {
  if (e.hint) return e;
  let hint: string | undefined;
  if (e.code === "deadline-exceeded") {
    hint = requestId
      ? `the outcome is unknown: run the same command with --request-id ${requestId} to learn it (nothing is done twice)`
      : "the outcome is unknown: check `salts audit-log` before retrying";
  } else if (e.code === "unavailable") {
    hint = "the call did nothing; retry later";
  } else if (e.code === "resource-exhausted") {
    const after = Number(e.details.retry_after_seconds);
    hint = Number.isFinite(after) ? `retry in ${after} s` : "retry in a minute";
  } else if (e.code === "permission-denied") {
    hint = "this needs an account with the admin (or, to read, auditor) claim";
  }
  return hint ? new CliError(e.code, e.message, e.details, hint) : e;
}
