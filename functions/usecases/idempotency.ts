import { failedPrecondition } from "../domain/errors";
import type { IdempotencyRecord, Replayed } from "../ports/saltStore";
import type { CallContext } from "./deps";

/** The record a change commits with when the call carried a request_id (none otherwise). */
export function idempotencyFor<O>(
  ctx: CallContext,
  answer: (outcome: O) => unknown,
): IdempotencyRecord<O> | undefined {
  return ctx.request ? { key: ctx.request.key, fingerprint: ctx.request.fingerprint, answer } : undefined;
}

/** What a retry is told: the first answer, or failed-precondition when the request_id was reused for another request. */
export function replayedAnswer<R>(out: Replayed): R {
  if (!out.sameRequest) throw requestIdReused();
  return out.answer as R;
}

export const requestIdReused = () =>
  failedPrecondition("This request_id was already used, within the last 24 hours, for a different request");
