import type { AuditResult } from "../domain/audit";
import * as logger from "firebase-functions/logger";
import { idHash } from "../domain/crypto";
import type { SaltKind } from "../domain/ids";

/**
 * Every log line the service writes, in one catalogue. Ids are hashed; no salt,
 * pepper or key is ever a field here, and errors are reduced to name and code.
 */
export interface CallLog {
  operation: string;
  result: AuditResult;
  latency_ms: number;
  correlation_id: string;
  actor_uid?: string | undefined;
  code?: string | undefined;
}

const safeError = (e: unknown): Record<string, unknown> => {
  const err = e as { name?: unknown; code?: unknown; message?: unknown; stack?: unknown };
  return {
    name: typeof err?.name === "string" ? err.name : typeof e,
    code: typeof err?.code === "string" || typeof err?.code === "number" ? err.code : undefined,
    // Messages of this service's own errors never carry secrets; third-party messages are cut short.
    message: typeof err?.message === "string" ? err.message.slice(0, 300) : undefined,
  };
};

export const logs = {
  callCompleted(entry: CallLog): void {
    (entry.result === "success" ? logger.info : logger.warn)("salt operation", { ...entry });
  },
  unexpectedError(operation: string, correlationId: string, e: unknown): void {
    logger.error("unexpected error", { operation, correlation_id: correlationId, error: safeError(e) });
  },
  saltRotated(
    kind: SaltKind,
    id: string,
    version: number,
    rotationId: string,
    correlationId: string,
    created: boolean,
  ): void {
    logger.info(created ? "salt created" : "salt rotated", {
      kind,
      id_hash: idHash(id),
      version,
      rotation_id: rotationId,
      correlation_id: correlationId,
    });
  },
  /** No id hash here: the receipt carries the rotation id, and an unkeyed hash beside it would confirm guesses. */
  saltErased(versionsDestroyed: number, rotationId: string, correlationId: string): void {
    logger.info("salt erased", {
      kind: "user",
      versions_destroyed: versionsDestroyed,
      rotation_id: rotationId,
      correlation_id: correlationId,
    });
  },
  configReloaded(userDays: number, globalDays: number, correlationId: string): void {
    logger.info("config reloaded", {
      user_days: userDays,
      global_days: globalDays,
      correlation_id: correlationId,
    });
  },
  auditWriteFailed(operation: string, correlationId: string, e: unknown): void {
    logger.error("audit entry for a failed call could not be written", {
      operation,
      correlation_id: correlationId,
      error: safeError(e),
    });
  },
  malformedTaskDropped(issues: unknown): void {
    logger.error("malformed job task dropped", { issues });
  },
  metricsFlushFailed(e: unknown): void {
    logger.warn("metrics flush failed", { error: safeError(e) });
  },
  /** Suppressed refusal counts an instance could not hand to the shared budget (kept for a retry, or not). */
  suppressedCountsNotWritten(kept: boolean, e: unknown): void {
    logger.warn("suppressed refusal counts not written", { kept, error: safeError(e) });
  },
  /** More callers with suppressed refusals than an instance keeps: the oldest count is dropped. */
  suppressedCountsDropped(count: number): void {
    logger.warn("suppressed refusal count dropped", { count });
  },
  jobProgress(fields: Record<string, string | number | boolean | null>): void {
    logger.info("rotation job", fields);
  },
  /** The checkpoint of every audit chain head: its digest, in logs kept apart from the database. */
  /** A finished checkpoint: its digest and mac in Cloud Logging, beside the object anchoring it (if any). */
  auditCheckpoint(fields: {
    id: string;
    seq: number;
    chains: number;
    digest: string;
    mac: string;
    anchor: string | null;
  }): void {
    logger.info("audit checkpoint", { ...fields });
  },
  auditAnchorFailed(id: string, e: unknown): void {
    logger.error("audit checkpoint not anchored (the next sweep retries)", { id, error: safeError(e) });
  },
  /** One request to salts-pseudonymizeBatch: its size, storage round trips and outcome (the session user hashed). */
  bigqueryBatch(fields: Record<string, string | number | boolean | null | undefined>): void {
    (fields.status === 200 ? logger.info : logger.warn)("bigquery batch", fields);
  },
  sweep(fields: Record<string, string | number | boolean | null>): void {
    logger.info("integrity sweep", fields);
  },
  /** Event publication: counts and outbox ids, never message data; a failure as a warning. */
  events(what: string, fields: Record<string, string | number | boolean | null>, e?: unknown): void {
    if (e === undefined) logger.info("events", { what, ...fields });
    else logger.warn("events", { what, ...fields, error: safeError(e) });
  },
};
