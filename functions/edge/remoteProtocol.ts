import { z } from "zod";
import { MAX_BATCH_CALLS } from "../domain/bigquery";
import { invalidArgument, type ErrorCode, type SaltServiceError } from "../domain/errors";
import { DEFAULT_MODE } from "../usecases/batchModes";
import type { BatchRequest } from "../usecases/pseudonymizeBatch";

/**
 * BigQuery's remote-function protocol (https://cloud.google.com/bigquery/docs/remote-functions):
 * what a request may hold, and how an outcome is answered. Fields BigQuery may add later are
 * ignored; `userDefinedContext` is strict, since a misspelt option would silently change pseudonyms.
 */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => v.isWellFormed(), "must be well-formed Unicode (no lone surrogates)");

const batchSchema = z.object({
  requestId: text(1024).pipe(z.string().min(1)),
  caller: text(2048).optional(),
  sessionUser: text(320).optional(),
  userDefinedContext: z
    .strictObject({
      mode: text(64).optional(),
      field: text(1024).pipe(z.string().min(1)).optional(),
      scope: text(64).optional(),
    })
    .optional(),
  calls: z
    .array(z.unknown())
    .max(
      MAX_BATCH_CALLS,
      `at most ${MAX_BATCH_CALLS} calls per request (set max_batching_rows to at most that)`,
    ),
});

/** The request, checked; absent or empty `caller` and `sessionUser` are null. */
export function parseBatchRequest(body: unknown): BatchRequest {
  const parsed = batchSchema.safeParse(body);
  if (!parsed.success) {
    throw invalidArgument(
      parsed.error.issues.slice(0, 5).map((i) => ({
        path: i.path
          .map((p, n) => (typeof p === "number" ? `[${p}]` : `${n > 0 ? "." : ""}${String(p)}`))
          .join(""),
        message: i.message,
      })),
    );
  }
  const b = parsed.data;
  return {
    requestId: b.requestId,
    caller: b.caller || null,
    sessionUser: b.sessionUser || null,
    mode: b.userDefinedContext?.mode ?? DEFAULT_MODE,
    field: b.userDefinedContext?.field ?? "value",
    scope: b.userDefinedContext?.scope ?? null,
    calls: b.calls,
  };
}

/**
 * HTTP status of each outcome. 400 for whatever a retry cannot fix (BigQuery fails the query at
 * once, showing errorMessage); 429 and 503 for what a retry can (BigQuery retries them, with
 * backoff, a bounded number of times); never 500 for bad input: BigQuery retries 500 too.
 */
const STATUS: Partial<Record<ErrorCode, number>> = {
  "invalid-argument": 400,
  // A missing or disabled secret, a disabled feature: an operator must act, retrying will not help.
  "failed-precondition": 400,
  unauthenticated: 401,
  "permission-denied": 403,
  "resource-exhausted": 429,
  unavailable: 503,
  "deadline-exceeded": 503,
  aborted: 503,
};

/** At most 1,000 characters (BigQuery shows at most that of it), with the correlation id at its end. */
export const ERROR_MESSAGE_MAX = 1000;

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: { replies: readonly (string | null)[] } | { errorMessage: string };
}

/** The answer to a refused or failed request: its status, headers and `{errorMessage}`. */
export function errorAnswer(error: SaltServiceError, correlationId: string): HttpAnswer {
  const status = STATUS[error.code] ?? 500;
  const issues = (error.details.issues ?? []) as { path: string; message: string }[];
  const described =
    error.code === "invalid-argument" && issues.length > 0 && !("refused" in error.details)
      ? issues.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; ")
      : error.message;
  const suffix = ` [correlation_id ${correlationId}]`;
  const room = ERROR_MESSAGE_MAX - suffix.length;
  const text = described.length > room ? `${described.slice(0, room - 1)}…` : described;
  const headers: Record<string, string> = { "X-Correlation-Id": correlationId };
  if (status === 429) headers["Retry-After"] = String(Number(error.details.retry_after_seconds) || 1);
  if (status === 401) headers["WWW-Authenticate"] = 'Bearer realm="salts-pseudonymizeBatch"';
  return { status, headers, body: { errorMessage: `${text}${suffix}` } };
}
