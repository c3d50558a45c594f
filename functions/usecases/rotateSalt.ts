import { randomUUID } from "node:crypto";
import type { ServiceRuntime } from "../app/runtime";
import { assertSaltId, type SaltKind } from "../domain/ids";
import { toMetadata, type SaltMetadata } from "../domain/salt";
import { logs } from "../observability/logs";
import { auditContext, type CallContext } from "./context";

export interface RotateResponse {
  rotation_id: string;
  created: boolean;
  salt: SaltMetadata;
}

export const rotateOperation = (kind: SaltKind): string =>
  kind === "user" ? "rotate_user" : "rotate_global";

/** Rotates one salt now (or creates it with `force`); the audit entry commits with it. */
export async function rotateSalt(
  rt: ServiceRuntime,
  ctx: CallContext,
  kind: SaltKind,
  id: string,
  options: { force?: boolean | undefined; reason?: string | undefined },
): Promise<RotateResponse> {
  assertSaltId(kind, id);
  const rotationId = randomUUID();
  const out = await rt.backend.rotate(kind, id, {
    force: options.force ?? false,
    rotationId,
    audit: auditContext(ctx, rotateOperation(kind), options.reason),
  });
  if (out.status === "skipped") throw new Error("an unguarded rotation cannot be skipped");
  rt.cache.invalidate(kind, id);
  logs.saltRotated(kind, id, out.record.version, rotationId, ctx.correlationId, out.status === "created");
  return {
    rotation_id: rotationId,
    created: out.status === "created",
    salt: toMetadata(out.record, rt.policy(), rt.clock()),
  };
}
