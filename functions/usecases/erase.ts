import { randomUUID } from "node:crypto";
import { idDigest } from "../domain/crypto";
import { assertSaltId } from "../domain/ids";
import { logs } from "../observability/logs";
import { auditContext, type CallContext, type Services } from "./deps";

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
  deps: Pick<Services, "salts" | "cache" | "pseudonymizer" | "clock">,
  ctx: CallContext,
  userId: string,
  reason: string,
): Promise<EraseResponse> {
  assertSaltId("user", userId);
  const rotationId = randomUUID();
  const out = await deps.salts.erase("user", userId, rotationId, auditContext(ctx, "erase", reason));
  deps.cache.invalidate("user", userId);
  deps.pseudonymizer.clear();
  logs.saltErased(userId, out.versionsDestroyed, rotationId, ctx.correlationId);
  return {
    erased: out.erased,
    versions_destroyed: out.versionsDestroyed,
    receipt: {
      user_id_hash: idDigest(userId),
      erased_at: deps.clock().toISOString(),
      rotation_id: rotationId,
    },
  };
}
