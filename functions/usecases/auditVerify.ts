import type { AuditEntry } from "../domain/audit";
import { linkProblem, type ChainHead } from "../domain/auditChain";
import { decodeCursor, encodeCursor } from "../domain/paging";
import type { Services } from "./deps";

export interface ChainBreak {
  entry_id?: string;
  target: AuditEntry["target"];
  problem: string;
}

export interface AuditVerifyResponse {
  intact: boolean;
  checked_entries: number;
  checked_targets: number;
  breaks: ChainBreak[];
  next_cursor: string | null;
}

type VerifyDeps = Pick<Services, "audit" | "auditKey">;

const MAX_BREAKS = 100;
// `in` takes at most 30 values: a target's chains are verified 30 at a time.
const CHAINS_PER_QUERY = 30;

/**
 * Walks the audit trail in chain order and checks every link: each entry's mac
 * under the audit key (a changed entry), its sequence number (a removed or
 * reordered one), its link to the entry before it, and at the end of each
 * chain that the head kept with the salt (or in its chain document) is the last
 * entry found (entries removed from the end). With `target_id`, only the chains
 * holding that target's entries; otherwise the whole trail, `limit` entries per
 * call, continued with `next_cursor`.
 */
export async function auditVerify(
  deps: VerifyDeps,
  input: { target_id?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<AuditVerifyResponse> {
  const chains = input.target_id === undefined ? undefined : await chainsOfTarget(deps, input.target_id);
  if (chains && chains.length === 0) {
    return { intact: true, checked_entries: 0, checked_targets: 0, breaks: [], next_cursor: null };
  }
  const after = input.cursor ? decodeCursor(input.cursor) : null;
  const walk = new ChainWalk(deps, after && after.t > 0 ? await previousLink(deps, after.d, after.t) : null);
  let cursor = input.cursor ?? null;
  let remaining = input.limit;
  let next: string | null = null;
  const groups = chains ? groupsOf(chains, after?.d) : [undefined];
  for (const group of groups) {
    if (remaining <= 0) {
      // Out of budget at a group boundary: resume at the start of this group's first chain.
      next = encodeCursor({ t: 0, d: group![0]! });
      break;
    }
    do {
      const page = await deps.audit.scanChains({
        limit: remaining,
        cursor,
        ...(group ? { chains: group } : {}),
      });
      for (const { entry } of page.items) await walk.visit(entry);
      remaining -= page.items.length;
      cursor = page.nextCursor;
    } while (cursor && remaining > 0);
    if (cursor) {
      next = cursor;
      break;
    }
    await walk.finish();
  }
  return {
    intact: walk.breaks.length === 0,
    checked_entries: walk.entries,
    checked_targets: walk.chains,
    breaks: walk.breaks,
    next_cursor: next,
  };
}

/** Every chain holding an entry about `targetId` (its salts' incarnations, its log, callers refused on it). */
async function chainsOfTarget(deps: VerifyDeps, targetId: string): Promise<string[]> {
  const found = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await deps.audit.listAudit({ limit: 500, targetId, cursor });
    for (const e of page.items) if (e.integrity) found.add(e.integrity.chain);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return [...found].sort();
}

function groupsOf(chains: string[], from?: string): string[][] {
  const rest = from === undefined ? chains : chains.filter((c) => c >= from);
  const groups: string[][] = [];
  for (let i = 0; i < rest.length; i += CHAINS_PER_QUERY) groups.push(rest.slice(i, i + CHAINS_PER_QUERY));
  return groups;
}

/** The entry a cursor points at, as the link the next entry must follow. */
async function previousLink(deps: VerifyDeps, chain: string, seq: number) {
  const page = await deps.audit.scanChains({
    limit: 1,
    chains: [chain],
    ...(seq > 1 ? { cursor: encodeCursor({ t: seq - 1, d: chain }) } : {}),
  });
  const entry = page.items[0]?.entry;
  return entry?.integrity?.seq === seq ? { chain, head: { seq, mac: entry.integrity.mac }, entry } : null;
}

/** The state of a walk through chains in (chain, seq) order. */
class ChainWalk {
  entries = 0;
  chains = 0;
  readonly breaks: ChainBreak[] = [];
  private current: { chain: string; head: ChainHead | null; entry: AuditEntry } | null;

  constructor(
    private readonly deps: VerifyDeps,
    resumeFrom: { chain: string; head: ChainHead; entry: AuditEntry } | null,
  ) {
    this.current = resumeFrom;
  }

  private flag(entry: AuditEntry | null, target: AuditEntry["target"], problem: string): void {
    if (this.breaks.length < MAX_BREAKS)
      this.breaks.push({ ...(entry ? { entry_id: entry.id } : {}), target, problem });
  }

  async visit(entry: AuditEntry): Promise<void> {
    const link = entry.integrity!;
    if (this.current?.chain !== link.chain) {
      await this.finish();
      this.chains++;
      this.current = { chain: link.chain, head: null, entry };
    }
    this.entries++;
    const key = await this.deps.auditKey.version(link.key_version).catch(() => null);
    const problem = key
      ? linkProblem(entry, this.current.head, key.bytes)
      : `audit key version ${link.key_version} is not available`;
    if (problem) this.flag(entry, entry.target, problem);
    this.current = { chain: link.chain, head: { seq: link.seq, mac: link.mac }, entry };
  }

  /** At a chain's end: its recorded head must be the last entry found. */
  async finish(): Promise<void> {
    const last = this.current;
    this.current = null;
    if (!last?.head) return;
    const head = await this.deps.audit.headOf(last.chain);
    if (!head) this.flag(null, last.entry.target, `chain ${last.chain} has entries but no recorded head`);
    else if (head.seq !== last.head.seq || head.mac !== last.head.mac) {
      const problem =
        head.seq > last.head.seq
          ? `entries ${last.head.seq + 1}..${head.seq} of the chain are missing (removed from the end)`
          : `the chain's recorded head (entry ${head.seq}) is not its last entry (${last.head.seq})`;
      this.flag(null, last.entry.target, problem);
    }
  }
}
