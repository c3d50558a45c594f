import { isSaltServiceError, SaltServiceError, unavailable } from "../../domain/errors";

// gRPC status codes that mean "the store did not answer or could not commit now".
const RETRYABLE_GRPC = new Set([
  4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 10 /* ABORTED */, 14 /* UNAVAILABLE */,
]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH"]);

function isStoreUnavailable(e: unknown): boolean {
  if (isSaltServiceError(e)) return e.code === "unavailable";
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "number") return RETRYABLE_GRPC.has(code);
  if (typeof code === "string") return NETWORK_CODES.has(code);
  return false;
}

/**
 * Runs one storage operation with a deadline. Storage faults become
 * `unavailable`; domain errors pass through; anything else is rethrown as is
 * for the edge to turn into `internal`.
 */
export async function guarded<T>(operation: string, timeoutMs: number, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(unavailable(`Firestore did not answer within ${timeoutMs} ms (${operation})`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([run(), deadline]);
  } catch (e) {
    if (e instanceof SaltServiceError) throw e;
    if (isStoreUnavailable(e)) throw unavailable(`Firestore is unavailable (${operation})`, e);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
