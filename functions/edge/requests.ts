import { createHash } from "node:crypto";
import { canonical } from "../domain/auditChain";
import { requestIdReused } from "../usecases/idempotency";
import type { CallContext, Services } from "../usecases/deps";

/** Where one caller's request id is kept: a caller's ids never meet another caller's. */
export function requestKey(uid: string, requestId: string): string {
  return createHash("sha256").update(`salt-service/request/v1\0${uid}\0${requestId}`).digest("hex");
}

/** What a request asked (operation and input, without its id): a reused id with another request is refused. */
export function requestFingerprint(operation: string, input: Record<string, unknown>): string {
  const { request_id: _id, ...rest } = input;
  return createHash("sha256")
    .update(`${operation}\0${canonical(rest)}`)
    .digest("hex");
}

/**
 * The request context of a call that carried a request_id, and the first
 * answer when it was seen before (a retry): then nothing runs again.
 */
export async function priorAnswer(
  s: Pick<Services, "requests">,
  uid: string,
  operation: string,
  input: Record<string, unknown>,
): Promise<{ request: CallContext["request"]; answer: object | null }> {
  const requestId = input.request_id;
  if (typeof requestId !== "string") return { request: undefined, answer: null };
  const request = { key: requestKey(uid, requestId), fingerprint: requestFingerprint(operation, input) };
  const prior = await s.requests.get(request.key);
  if (!prior) return { request, answer: null };
  if (prior.fingerprint !== request.fingerprint) throw requestIdReused();
  return { request, answer: prior.answer as object };
}
