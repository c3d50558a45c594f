import type { SaltKind } from "../domain/ids";
import { toMetadata, type SaltMetadata } from "../domain/salt";
import type { Services } from "./deps";

/** One page of salts of a kind (metadata only, document order): what consoles list. */
export async function listSalts(
  deps: Pick<Services, "salts" | "clock">,
  input: { kind: SaltKind; limit: number; cursor?: string | undefined },
): Promise<{ salts: SaltMetadata[]; next_cursor: string | null }> {
  const page = await deps.salts.list(input.kind, { limit: input.limit, cursor: input.cursor });
  const now = deps.clock();
  return { salts: page.items.map((r) => toMetadata(r, now)), next_cursor: page.nextCursor };
}
