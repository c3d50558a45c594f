import type { CallableRequest } from "firebase-functions/https";
import type { z } from "zod";
import type { AuditEntry } from "../domain/audit";
import { SaltServiceError } from "../domain/errors";
import { saltIdProblem } from "../domain/ids";
import { scopeIdProblem } from "../domain/scope";
import { logs } from "../observability/logs";
import type { CallContext, Services } from "../usecases/deps";
import { approvalGate } from "./approvals";
import { authorize, signedIn, type Role } from "./auth";
import { correlationIdFrom } from "./correlation";
import { auditDenied } from "./denied";
import { admitCall, settleCall } from "./refusals";
import { asServiceError, toHttpsError } from "./errors";
import { priorAnswer } from "./requests";
import { parseRequest } from "./schemas";
import { warmSecrets, type SecretNeed } from "./warm";

export type { SecretNeed } from "./warm";

export interface CallableSpec<S extends z.ZodType, R> {
  /** Operation name in metrics, logs and audit entries. */
  operation: string;
  role: Role;
  /** Mutations audit their failures and accept a request_id. */
  mutating: boolean;
  schema: S;
  run: (services: Services, ctx: CallContext, input: z.output<S>) => Promise<R>;
}

/** What a call was aimed at, when the request names a valid id; otherwise the operation. */
function targetOf(data: unknown, operation: string): AuditEntry["target"] {
  const d = (data ?? {}) as { user_id?: unknown; event_type?: unknown; scope_id?: unknown };
  if (saltIdProblem("user", d.user_id) === null) return { kind: "user", id: d.user_id as string };
  if (saltIdProblem("global", d.event_type) === null) return { kind: "global", id: d.event_type as string };
  if (scopeIdProblem(d.scope_id) === null) return { kind: "scope", id: d.scope_id as string };
  return { kind: "system", id: operation };
}

const REFUSED = new Set(["permission-denied", "resource-exhausted"]);

/**
 * The one pipeline every callable runs: correlation id; the rate limit (this
 * instance's, then the shared one: edge/refusals.ts); the caller looked up in
 * Firebase Auth (revocation, current roles), only once admitted; validation; a
 * request_id's first answer, if this is a retry; the use case; then audit of
 * refusals and failures, logs, metrics and error mapping.
 * Exported so tests can call it without the SDK wrapper.
 */
export async function handleCall<S extends z.ZodType, R extends object>(
  spec: CallableSpec<S, R>,
  request: CallableRequest<unknown>,
  rt: Services,
  /** The secrets the function binds besides the audit key: loaded early on the instance's first call. */
  secretNeeds: readonly SecretNeed[] = [],
): Promise<R & { correlation_id: string }> {
  const correlationId = correlationIdFrom(request.rawRequest?.headers?.["x-correlation-id"]);
  const started = process.hrtime.bigint();
  let actorUid: string | undefined;
  let failure: SaltServiceError | undefined;
  try {
    const who = signedIn(request);
    actorUid = who.uid;
    // The instance's first signed-in call starts its secrets loading (once per instance, whatever the call's
    // fate): Secret Manager's client loads while the rate limiter's and the Auth lookup's requests are out.
    warmSecrets(rt, secretNeeds);
    // Rate limited first (edge/refusals.ts): a refused call costs no Auth lookup.
    await admitCall(rt, spec.operation, who.uid);
    const caller = await authorize(rt.identity, who, spec.role);
    const input = parseRequest(spec.schema, request.data);
    const ctx: CallContext = { correlationId, actor: { uid: caller.uid, via: "callable" } };
    if (spec.mutating) {
      const prior = await priorAnswer(rt, caller.uid, spec.operation, input as Record<string, unknown>);
      if (prior.answer) return { ...(prior.answer as R), correlation_id: correlationId };
      if (prior.request) ctx.request = prior.request;
    }
    await rt.policy.refresh();
    const held = await approvalGate(rt, spec.operation, ctx, input as Record<string, unknown>);
    if (held) return { ...(held as unknown as R), correlation_id: correlationId };
    const result = await spec.run(rt, ctx, input);
    return { ...result, correlation_id: correlationId };
  } catch (e) {
    const { error, unexpected } = asServiceError(e);
    failure = error;
    if (unexpected) logs.unexpectedError(spec.operation, correlationId, e);
    if (actorUid !== undefined) await auditFailure(rt, spec, request.data, actorUid, error, correlationId);
    throw toHttpsError(error, correlationId);
  } finally {
    // The events this call committed are the drain's to publish: a `salts-publishEvents` task at the end of
    // the current 5-s window, which this instance asks for once per window (adapters/eventDrains.ts). So the
    // answer waits for no outbox read, no Pub/Sub round trip and no mark-published commit.
    await rt.events.flush({ toDrain: true });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const result = !failure ? "success" : REFUSED.has(failure.code) ? "denied" : "error";
    logs.callCompleted({
      operation: spec.operation,
      result,
      latency_ms: Math.round(seconds * 1000),
      correlation_id: correlationId,
      actor_uid: actorUid,
      code: failure?.code,
    });
    rt.metrics.record(spec.operation, result, seconds);
    await settleCall(rt);
  }
}

/**
 * Refused calls of a signed-in caller are audited as `denied` (rate limited);
 * other failures of mutating calls as `error`. Unauthenticated calls name
 * nobody and are not audited.
 */
async function auditFailure(
  rt: Services,
  spec: CallableSpec<z.ZodType, unknown>,
  data: unknown,
  uid: string,
  error: SaltServiceError,
  correlationId: string,
): Promise<void> {
  const target = targetOf(data, spec.operation);
  if (REFUSED.has(error.code)) {
    await auditDenied(rt, { uid, operation: spec.operation, target, code: error.code, correlationId });
    return;
  }
  if (!spec.mutating || error.code === "unauthenticated") return;
  await rt.audit
    .appendAudit({
      actor: { uid, via: "callable" },
      operation: spec.operation,
      target,
      result: "error",
      correlation_id: correlationId,
      details: { code: error.code },
    })
    .catch((auditError: unknown) => logs.auditWriteFailed(spec.operation, correlationId, auditError));
}
