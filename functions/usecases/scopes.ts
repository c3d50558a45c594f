import { randomUUID } from "node:crypto";
import { assertScopeId, toScopeMetadata, type ScopeMetadata, type ScopeSpec } from "../domain/scope";
import type { PutScopeOutcome, RotateScopeOutcome } from "../ports/scopeStore";
import { auditContext, type CallContext, type Services } from "./deps";
import { idempotencyFor, replayedAnswer } from "./idempotency";

export interface PutScopeResponse {
  scope: ScopeMetadata;
  created: boolean;
}

/** salts-putScope: creates a scope (version 1, a fresh secret) or updates its description, interval and consumers. */
export async function putScope(
  deps: Pick<Services, "scopes" | "scopeCache" | "clock">,
  ctx: CallContext,
  input: ScopeSpec & { reason: string },
): Promise<PutScopeResponse> {
  const { reason, ...spec } = input;
  assertScopeId(spec.scope_id, "scope_id");
  const respond = (out: PutScopeOutcome): PutScopeResponse | null =>
    out.status === "replayed"
      ? null
      : { scope: toScopeMetadata(out.record, deps.clock()), created: out.status === "created" };
  const out = await deps.scopes.putScope(
    spec,
    auditContext(ctx, "put_scope", reason),
    idempotencyFor(ctx, respond),
  );
  if (out.status === "replayed") return replayedAnswer<PutScopeResponse>(out);
  deps.scopeCache.invalidate(spec.scope_id);
  return respond(out)!;
}

export interface RotateScopeResponse {
  scope: ScopeMetadata;
  rotation_id: string;
}

/** salts-rotateScope: a new version with a fresh secret; every subject's pseudonyms in it change at once. */
export async function rotateScope(
  deps: Pick<Services, "scopes" | "scopeCache" | "clock">,
  ctx: CallContext,
  input: { scope_id: string; reason: string },
): Promise<RotateScopeResponse> {
  assertScopeId(input.scope_id, "scope_id");
  const rotationId = randomUUID();
  const respond = (out: RotateScopeOutcome): RotateScopeResponse | null =>
    out.status === "rotated"
      ? { scope: toScopeMetadata(out.record, deps.clock()), rotation_id: out.rotationId }
      : null;
  const out = await deps.scopes.rotateScope(input.scope_id, {
    rotationId,
    audit: auditContext(ctx, "rotate_scope", input.reason),
    idempotency: idempotencyFor(ctx, respond),
  });
  if (out.status === "replayed") return replayedAnswer<RotateScopeResponse>(out);
  const response = respond(out);
  if (!response) throw new Error("an unguarded scope rotation cannot be skipped");
  deps.scopeCache.invalidate(input.scope_id);
  return response;
}

/** salts-scopes: every scope in id order, a page at a time (auditors may read). */
export async function listScopes(
  deps: Pick<Services, "scopes" | "clock">,
  input: { limit: number; cursor?: string | undefined },
): Promise<{ scopes: ScopeMetadata[]; next_cursor: string | null }> {
  const page = await deps.scopes.listScopes({ limit: input.limit, cursor: input.cursor });
  const now = deps.clock();
  return { scopes: page.items.map((r) => toScopeMetadata(r, now)), next_cursor: page.nextCursor };
}
