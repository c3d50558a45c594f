/**
 * Domain errors carry a stable code; the edge (callables, CLI) maps the code to
 * an HttpsError or an exit status in one place. Messages are written for the
 * caller and must never contain salt, pepper or key material.
 */
export type ErrorCode =
  | "invalid-argument"
  | "not-found"
  | "failed-precondition"
  | "resource-exhausted"
  | "unavailable"
  | "deadline-exceeded"
  | "permission-denied"
  | "unauthenticated"
  | "aborted"
  | "internal";

export interface Issue {
  path: string;
  message: string;
}

export class SaltServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SaltServiceError";
  }
}

export const invalidArgument = (issues: Issue[]): SaltServiceError =>
  new SaltServiceError(
    "invalid-argument",
    `Invalid request: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`,
    { issues },
  );

export const notFound = (what: string): SaltServiceError =>
  new SaltServiceError("not-found", `${what} does not exist`);

export const failedPrecondition = (message: string): SaltServiceError =>
  new SaltServiceError("failed-precondition", message);

export const unavailable = (message: string, cause?: unknown): SaltServiceError =>
  new SaltServiceError("unavailable", message, {}, { cause });

/** The call may or may not have taken effect: a commit was sent and its answer was lost. */
export const outcomeUnknown = (operation: string, cause?: unknown): SaltServiceError =>
  new SaltServiceError(
    "deadline-exceeded",
    `The outcome of ${operation} is unknown (storage did not confirm the commit); retry with the same request_id to learn it`,
    {},
    { cause },
  );

export const isSaltServiceError = (e: unknown): e is SaltServiceError => e instanceof SaltServiceError;

/** Storage (or another dependency) did not answer: adapters report every such fault this way. */
export const isUnavailable = (e: unknown): boolean => isSaltServiceError(e) && e.code === "unavailable";

/** Storage failed us: nothing happened (unavailable) or we cannot know (deadline-exceeded). Jobs stop on either. */
export const isStorageFault = (e: unknown): boolean =>
  isSaltServiceError(e) && (e.code === "unavailable" || e.code === "deadline-exceeded");
