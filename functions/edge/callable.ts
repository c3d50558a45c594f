import type { CallableRequest } from "firebase-functions/https";
import type { z } from "zod";
import { SaltServiceError } from "../domain/errors";
import { saltIdProblem } from "../domain/ids";
import type { AuditEntry } from "../domain/audit";
import { logs } from "../observability/logs";
import type { CallContext, Services } from "../usecases/deps";
import { authorize, type Role } from "./auth";
import { correlationIdFrom } from "./correlation";
import { asServiceError, toHttpsError } from "./errors";
import { parseRequest } from "./schemas";

/** Secrets an operation reads besides the audit key: the pepper, the salt-encryption key. */
export type SecretNeed = "pepper" | "key";

export interface CallableSpec<S extends z.ZodType, R> {
  /** Operation name in metrics, logs and audit entries. */
  operation: string;
  role: Role;
  /** Mutations re-check the token for revocation and audit their failures. */
  mutating: boolean;
  schema: S;
  /** What the function binds (and so may read): least privilege, checked by a test. */
  secrets: readonly SecretNeed[];
  run: (services: Services, ctx: CallContext, input: z.output<S>) => Promise<R>;
}

/** What a failed call was aimed at, when the request names a valid id; otherwise the operation. */
function targetOf(data: unknown, operation: string): AuditEntry["target"] {
  const d = (data ?? {}) as { user_id?: unknown; event_type?: unknown };
  if (saltIdProblem("user", d.user_id) === null) return { kind: "user", id: d.user_id as string };
  if (saltIdProblem("global", d.event_type) === null) return { kind: "global", id: d.event_type as string };
  return { kind: "system", id: operation };
}

// Failures that say nothing about the operation itself are not written to the audit log.
const NOT_AUDITED = new Set(["unauthenticated", "resource-exhausted"]);

/**
 * The one pipeline every callable runs: correlation id, authentication and
 * role, shared rate limit, validation, the use case, then logs, metrics and
 * error mapping. Exported so tests can call it without the SDK wrapper.
 */
export async function handleCall<S extends z.ZodType, R extends object>(
  spec: CallableSpec<S, R>,
  request: CallableRequest<unknown>,
  rt: Services,
): Promise<R & { correlation_id: string }> {
  const correlationId = correlationIdFrom(request.rawRequest?.headers?.["x-correlation-id"]);
  const started = process.hrtime.bigint();
  let actorUid: string | undefined;
  let failure: SaltServiceError | undefined;
  try {
    const caller = await authorize(request, spec.role, spec.mutating);
    actorUid = caller.uid;
    const decision = await rt.rateLimiter.hit(
      `${spec.operation}:${caller.uid}`,
      rt.config.rateLimitPerMinute,
    );
    if (!decision.allowed) {
      throw new SaltServiceError(
        "resource-exhausted",
        `Rate limit of ${rt.config.rateLimitPerMinute} calls per minute reached`,
        { retry_after_seconds: decision.retryAfterSeconds },
      );
    }
    const input = parseRequest(spec.schema, request.data);
    await rt.policy.refresh();
    const ctx: CallContext = { correlationId, actor: { uid: caller.uid, via: "callable" } };
    const result = await spec.run(rt, ctx, input);
    return { ...result, correlation_id: correlationId };
  } catch (e) {
    const { error, unexpected } = asServiceError(e);
    failure = error;
    if (unexpected) logs.unexpectedError(spec.operation, correlationId, e);
    if (spec.mutating && actorUid !== undefined && !NOT_AUDITED.has(error.code)) {
      await rt.audit
        .appendAudit({
          actor: { uid: actorUid, via: "callable" },
          operation: spec.operation,
          target: targetOf(request.data, spec.operation),
          result: "error",
          correlation_id: correlationId,
          details: { code: error.code },
        })
        .catch((auditError: unknown) => logs.auditWriteFailed(spec.operation, correlationId, auditError));
    }
    throw toHttpsError(error, correlationId);
  } finally {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const result = failure ? "error" : "success";
    logs.callCompleted({
      operation: spec.operation,
      result,
      latency_ms: Math.round(seconds * 1000),
      correlation_id: correlationId,
      actor_uid: actorUid,
      code: failure?.code,
    });
    rt.metrics.record(spec.operation, result, seconds);
    await rt.metrics.flush().catch((e: unknown) => logs.metricsFlushFailed(e));
  }
}
