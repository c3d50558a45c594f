import { randomUUID } from "node:crypto";
import { keyedIdDigest } from "../domain/crypto";
import { assertSaltId } from "../domain/ids";
import { logs } from "../observability/logs";
import type { EraseOutcome } from "../ports/saltStore";
import { auditContext, type CallContext, type Services } from "./deps";
import { idempotencyFor, replayedAnswer } from "./idempotency";

export interface EraseResponse {
  erased: boolean;
  versions_destroyed: number;
  receipt: { user_id_hash: string; erased_at: string; rotation_id: string };
}

/**
 * Right to erasure: every stored version of the user's salt and the user's
 * shred secret are destroyed in one transaction with the audit entry, so no
 * stored material can recompute the user's earlier pseudonyms, under the user's
 * salts or under global salts. This instance's caches forget it at once; every
 * other instance within SALT_CACHE_TTL_SECONDS.
 */
export async function eraseUser(
  deps: Pick<Services, "salts" | "cache" | "pseudonymizer" | "clock" | "auditKey">,
  ctx: CallContext,
  userId: string,
  reason: string,
): Promise<EraseResponse> {
  assertSaltId("user", userId);
  const rotationId = randomUUID();
  const key = await deps.auditKey.current();
  const receipt = {
    user_id_hash: keyedIdDigest(key.bytes, userId),
    erased_at: deps.clock().toISOString(),
    rotation_id: rotationId,
  };
  const respond = (out: EraseOutcome): EraseResponse | null =>
    out.status === "erased"
      ? { erased: out.erased, versions_destroyed: out.versionsDestroyed, receipt }
      : null;
  const out = await deps.salts.erase(
    "user",
    userId,
    rotationId,
    auditContext(ctx, "erase", reason),
    idempotencyFor(ctx, respond),
  );
  if (out.status === "replayed") return replayedAnswer<EraseResponse>(out);
  deps.cache.invalidate("user", userId);
  deps.pseudonymizer.clear();
  logs.saltErased(userId, out.versionsDestroyed, rotationId, ctx.correlationId);
  return respond(out)!;
}
