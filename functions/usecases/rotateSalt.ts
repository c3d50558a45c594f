import { randomUUID } from "node:crypto";
import { assertSaltId, type SaltKind } from "../domain/ids";
import { toMetadata, type SaltMetadata } from "../domain/salt";
import { logs } from "../observability/logs";
import { auditContext, type CallContext, type Services } from "./deps";

export interface RotateResponse {
  rotation_id: string;
  created: boolean;
  salt: SaltMetadata;
}

export const rotateOperation = (kind: SaltKind): string =>
  kind === "user" ? "rotate_user" : "rotate_global";

/** Rotates one salt now (or creates it with `force`); the audit entry commits with it. */
export async function rotateSalt(
  deps: Pick<Services, "salts" | "cache" | "policy" | "clock">,
  ctx: CallContext,
  kind: SaltKind,
  id: string,
  options: { force?: boolean | undefined; reason?: string | undefined },
): Promise<RotateResponse> {
  assertSaltId(kind, id);
  const rotationId = randomUUID();
  const out = await deps.salts.rotate(kind, id, {
    force: options.force ?? false,
    rotationId,
    audit: auditContext(ctx, rotateOperation(kind), options.reason),
  });
  if (out.status === "skipped") throw new Error("an unguarded rotation cannot be skipped");
  deps.cache.invalidate(kind, id);
  logs.saltRotated(kind, id, out.record.version, rotationId, ctx.correlationId, out.status === "created");
  return {
    rotation_id: rotationId,
    created: out.status === "created",
    salt: toMetadata(out.record, deps.policy.current(), deps.clock()),
  };
}
