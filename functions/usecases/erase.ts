import { randomUUID } from "node:crypto";
import type { ServiceRuntime } from "../app/runtime";
import { idDigest } from "../domain/crypto";
import { assertSaltId } from "../domain/ids";
import { logs } from "../observability/logs";
import { auditContext, type CallContext } from "./context";

export interface EraseResponse {
  erased: boolean;
  versions_destroyed: number;
  receipt: { user_id_hash: string; erased_at: string; rotation_id: string };
}

/**
 * Right to erasure: every stored version of the user's salt is destroyed in one
 * transaction with its audit entry, so no stored material can recompute the
 * user's earlier pseudonyms. This instance's caches forget it at once.
 */
export async function eraseUser(
  rt: ServiceRuntime,
  ctx: CallContext,
  userId: string,
  reason: string,
): Promise<EraseResponse> {
  assertSaltId("user", userId);
  const rotationId = randomUUID();
  const out = await rt.backend.erase("user", userId, rotationId, auditContext(ctx, "erase", reason));
  rt.cache.invalidate("user", userId);
  rt.pseudonymizer.clear();
  logs.saltErased(userId, out.versionsDestroyed, rotationId, ctx.correlationId);
  return {
    erased: out.erased,
    versions_destroyed: out.versionsDestroyed,
    receipt: { user_id_hash: idDigest(userId), erased_at: rt.clock().toISOString(), rotation_id: rotationId },
  };
}
