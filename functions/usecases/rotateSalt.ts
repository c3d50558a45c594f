import { randomUUID } from "node:crypto";
import { assertSaltId, type SaltKind } from "../domain/ids";
import { toMetadata, type SaltMetadata } from "../domain/salt";
import { logs } from "../observability/logs";
import type { RotateOutcome } from "../ports/saltStore";
import { auditContext, type CallContext, type Services } from "./deps";
import { idempotencyFor, replayedAnswer } from "./idempotency";

export interface RotateResponse {
  rotation_id: string;
  created: boolean;
  salt: SaltMetadata;
}

export const rotateOperation = (kind: SaltKind): string =>
  kind === "user" ? "rotate_user" : "rotate_global";

/**
 * Rotates one salt now (or creates it with `force`); the audit entry (and the
 * request record, with a request_id) commit with it.
 */
export async function rotateSalt(
  deps: Pick<Services, "salts" | "cache" | "clock">,
  ctx: CallContext,
  kind: SaltKind,
  id: string,
  options: { force?: boolean | undefined; reason?: string | undefined },
): Promise<RotateResponse> {
  assertSaltId(kind, id);
  const rotationId = randomUUID();
  const respond = (out: RotateOutcome): RotateResponse | null =>
    out.status === "created" || out.status === "rotated"
      ? {
          rotation_id: rotationId,
          created: out.status === "created",
          salt: toMetadata(out.record, deps.clock()),
        }
      : null;
  const out = await deps.salts.rotate(kind, id, {
    force: options.force ?? false,
    rotationId,
    audit: auditContext(ctx, rotateOperation(kind), options.reason),
    idempotency: idempotencyFor(ctx, respond),
  });
  if (out.status === "replayed") return replayedAnswer<RotateResponse>(out);
  const response = respond(out);
  if (!response || out.status === "skipped") throw new Error("an unguarded rotation cannot be skipped");
  deps.cache.invalidate(kind, id);
  logs.saltRotated(kind, id, out.record.version, rotationId, ctx.correlationId, out.status === "created");
  return response;
}
