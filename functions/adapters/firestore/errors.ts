import { PassThrough, type Readable } from "node:stream";
import type { Firestore, Transaction } from "firebase-admin/firestore";
import { isSaltServiceError, outcomeUnknown, SaltServiceError, unavailable } from "../../domain/errors";

// gRPC status codes that mean "the store did not answer or could not commit now".
const RETRYABLE_GRPC = new Set([
  4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 10 /* ABORTED */, 14 /* UNAVAILABLE */,
]);
// Codes that, once a commit was sent, leave its outcome unknown (ABORTED and RESOURCE_EXHAUSTED do not).
const AMBIGUOUS_GRPC = new Set([4, 14]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH"]);

function isStoreUnavailable(e: unknown): boolean {
  if (isSaltServiceError(e)) return e.code === "unavailable";
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "number") return RETRYABLE_GRPC.has(code);
  if (typeof code === "string") return NETWORK_CODES.has(code);
  return false;
}

function isAmbiguous(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (
    (typeof code === "number" && AMBIGUOUS_GRPC.has(code)) ||
    (typeof code === "string" && NETWORK_CODES.has(code))
  );
}

/** Lets an operation say when it sends a commit: from then on, a fault leaves the outcome unknown. */
export interface Guard {
  committing(): void;
  settled(): void;
}

/**
 * Runs one storage operation with a deadline. Faults before a commit was sent
 * are `unavailable` (nothing happened; retry freely); faults while a commit is in
 * flight are `deadline-exceeded` (it may have happened: retry with the same
 * request_id). Domain errors pass through; anything else is rethrown as is.
 */
export async function guarded<T>(
  operation: string,
  timeoutMs: number,
  run: (guard: Guard) => Promise<T>,
): Promise<T> {
  let inFlight = false;
  let expired = false;
  const guard: Guard = {
    committing: () => {
      // The caller was told `unavailable` already: whatever is still running must not commit now.
      if (expired) throw unavailable(`Firestore did not answer within ${timeoutMs} ms (${operation})`);
      inFlight = true;
    },
    settled: () => {
      inFlight = false;
    },
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      reject(
        inFlight
          ? outcomeUnknown(operation)
          : unavailable(`Firestore did not answer within ${timeoutMs} ms (${operation})`),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([run(guard), deadline]);
  } catch (e) {
    if (e instanceof SaltServiceError) throw e;
    if (inFlight && isAmbiguous(e)) throw outcomeUnknown(operation, e);
    if (isStoreUnavailable(e)) throw unavailable(`Firestore is unavailable (${operation})`, e);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Sends a commit under the guard: a lost answer is reported as an unknown outcome, not as nothing done. */
export async function commitGuarded<T>(guard: Guard, commit: () => Promise<T>): Promise<T> {
  guard.committing();
  try {
    const out = await commit();
    guard.settled();
    return out;
  } catch (e) {
    // A refused commit (precondition, conflict) certainly did nothing.
    const code = (e as { code?: unknown }).code;
    if (typeof code === "number" && !AMBIGUOUS_GRPC.has(code)) guard.settled();
    throw e;
  }
}

/**
 * A read-write transaction under the guard, marked as committing from the moment its function returns (the
 * client then sends the commit): a fault after that is an unknown outcome (`deadline-exceeded`), one before
 * it certainly did nothing (`unavailable`). The client retries a transaction whose commit answer was lost by
 * running its function again, so the function must decide from what it reads (a request record, a state).
 */
export function transactGuarded<T>(
  db: Firestore,
  guard: Guard,
  fn: (tx: Transaction) => Promise<T>,
): Promise<T> {
  let sent = false;
  let runs = 0;
  return db
    .runTransaction(async (tx) => {
      runs++;
      const out = await fn(tx);
      if (!sent) guard.committing();
      sent = true;
      return out;
    })
    .then(
      (out) => {
        if (sent) guard.settled();
        return out;
      },
      (e: unknown) => {
        // A refused commit (precondition, conflict) certainly did nothing; after a retry, an earlier
        // attempt's commit may have been the one whose answer was lost, so the outcome stays unknown.
        const code = (e as { code?: unknown }).code;
        if (sent && runs === 1 && typeof code === "number" && !AMBIGUOUS_GRPC.has(code)) guard.settled();
        throw e;
      },
    );
}

/**
 * Reads a query's stream one item at a time, each wait under the deadline and its faults reported as
 * `guarded` reports them (a stalled store is `unavailable`, not a hang). Backpressure reaches the store:
 * only what the stream buffers is read ahead. A reader that stops early leaves the query to run to its
 * end in the background, its items discarded (the client cannot cancel a query; a query left paused
 * would hold its buffers until its deadline): give the query a limit that bounds that waste.
 */
export async function* guardedStream<T>(
  operation: string,
  timeoutMs: number,
  source: Readable,
): AsyncGenerator<T> {
  const buffer = new PassThrough({ objectMode: true, highWaterMark: 16 });
  // A failure reaches the reader after the items that came before it; once the reader is gone it is dropped.
  let failure: { error: unknown } | null = null;
  source.on("error", (error) => {
    failure ??= { error };
    source.unpipe(buffer);
    buffer.end();
  });
  source.pipe(buffer);
  const items: AsyncIterator<unknown> = buffer[Symbol.asyncIterator]();
  let ended = false;
  try {
    for (;;) {
      const next = await guarded(operation, timeoutMs, async () => {
        const item = await items.next();
        if (item.done && failure) throw failure.error;
        return item;
      });
      if (next.done) {
        ended = true;
        return;
      }
      yield next.value as T;
    }
  } finally {
    if (!ended) {
      source.unpipe(buffer);
      buffer.destroy();
      source.resume();
    }
  }
}

/**
 * Up to `limit` items of a query read as a stream (see guardedStream) from `open(after, limit)`; a stream
 * that fails as `unavailable` after it made progress is opened again after the last item read, with what
 * is left of the limit (as the client itself does, but without its 10-minute bound on one query). A
 * failure without progress, or of another kind, is the reader's.
 */
export async function* resumingStream<T>(
  operation: string,
  timeoutMs: number,
  limit: number,
  open: (after: T | null, limit: number) => Readable,
): AsyncGenerator<T> {
  let remaining = limit;
  let after: T | null = null;
  while (remaining > 0) {
    let read = 0;
    try {
      for await (const item of guardedStream<T>(operation, timeoutMs, open(after, remaining))) {
        read++;
        remaining--;
        after = item;
        yield item;
      }
      return;
    } catch (e) {
      if (read === 0 || !isSaltServiceError(e) || e.code !== "unavailable") throw e;
    }
  }
}
