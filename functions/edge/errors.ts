import { HttpsError, type FunctionsErrorCode } from "firebase-functions/https";
import { isSaltServiceError, SaltServiceError } from "../domain/errors";

/** Any thrown value as a service error; unexpected ones become a safe `internal`. */
export function asServiceError(e: unknown): { error: SaltServiceError; unexpected: boolean } {
  if (isSaltServiceError(e) && e.code !== "internal") return { error: e, unexpected: false };
  // Internal errors keep their detail for the log only; the caller gets a message that says nothing.
  return { error: new SaltServiceError("internal", "Internal error"), unexpected: true };
}

/** The one mapping from domain errors to callable errors. */
export function toHttpsError(error: SaltServiceError, correlationId: string): HttpsError {
  return new HttpsError(error.code as FunctionsErrorCode, error.message, {
    ...error.details,
    correlation_id: correlationId,
  });
}
