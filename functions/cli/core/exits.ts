import type { ErrorCode } from "../../domain/errors";

/**
 * The CLI's exit statuses and its one error type. Every failure, whether the
 * service refused a call, the network failed or the command line was wrong,
 * becomes a CliError whose code picks the exit status here and nowhere else.
 */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  notFound: 3,
  refused: 4,
  unavailable: 5,
  rateLimited: 6,
  precondition: 7,
  mismatch: 8,
  pending: 9,
  cancelled: 130,
} as const;

/** What `salts --help` and docs/CLI.md say about exit statuses. */
export const EXIT_HELP: [number, string][] = [
  [EXIT.ok, "success"],
  [EXIT.internal, "internal failure (a bug, an unexpected answer, a job that failed)"],
  [EXIT.usage, "usage: unknown command or flag, invalid argument, confirmation needed (--yes)"],
  [EXIT.notFound, "not found: no such salt or job"],
  [EXIT.refused, "refused: not signed in, or the account lacks the admin/auditor role"],
  [EXIT.unavailable, "unavailable: storage or the service could not be reached, or the outcome is unknown"],
  [EXIT.rateLimited, "rate limited: retry after the time the message gives"],
  [EXIT.precondition, "precondition: the service cannot do this now (feature off, secret missing, ...)"],
  [
    EXIT.mismatch,
    "verification failed: a pseudonym did not match (verify), the trail is broken (audit-verify)",
  ],
  [
    EXIT.pending,
    "pending: a second admin must approve the request first (dual control); --wait waits for it",
  ],
  [EXIT.cancelled, "cancelled: interrupted, or the confirmation was declined"],
];

/** Service error codes (the contract's, as the domain declares them), plus the CLI's own. */
export type CliCode = ErrorCode | "usage" | "mismatch" | "cancelled" | "pending";

const EXIT_OF: Record<CliCode, number> = {
  "invalid-argument": EXIT.usage,
  usage: EXIT.usage,
  "not-found": EXIT.notFound,
  unauthenticated: EXIT.refused,
  "permission-denied": EXIT.refused,
  unavailable: EXIT.unavailable,
  "deadline-exceeded": EXIT.unavailable,
  "resource-exhausted": EXIT.rateLimited,
  "failed-precondition": EXIT.precondition,
  aborted: EXIT.precondition,
  mismatch: EXIT.mismatch,
  pending: EXIT.pending,
  cancelled: EXIT.cancelled,
  internal: EXIT.internal,
};

/** The code in plain words, for `error: <words>: <message>`. */
export const CODE_WORDS: Record<CliCode, string> = {
  "invalid-argument": "invalid argument",
  usage: "usage",
  "not-found": "not found",
  unauthenticated: "not signed in",
  "permission-denied": "permission denied",
  unavailable: "unavailable",
  "deadline-exceeded": "outcome unknown",
  "resource-exhausted": "rate limited",
  "failed-precondition": "cannot do this now",
  aborted: "aborted",
  mismatch: "mismatch",
  pending: "awaiting approval",
  cancelled: "cancelled",
  internal: "internal error",
};

export class CliError extends Error {
  constructor(
    readonly code: CliCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    /** A line telling the operator what to do next. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = "CliError";
  }

  get correlationId(): string | undefined {
    const id = this.details.correlation_id;
    return typeof id === "string" ? id : undefined;
  }

  get exitCode(): number {
    return EXIT_OF[this.code];
  }
}

export const usage = (message: string, hint?: string): CliError => new CliError("usage", message, {}, hint);

const KNOWN = new Set(Object.keys(EXIT_OF));

/** A code off the wire (`NOT_FOUND`, `not-found`) as a CliCode; anything unknown is internal. */
export function codeOf(raw: unknown): CliCode {
  const code = String(raw ?? "")
    .toLowerCase()
    .replace(/_/g, "-");
  return KNOWN.has(code) ? (code as CliCode) : "internal";
}
