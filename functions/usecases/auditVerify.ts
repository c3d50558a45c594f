import { invalidArgument } from "../domain/errors";
import { decodeCursor, encodeCursor } from "../domain/paging";
import { targetOfChain, verifyLedger, type LedgerDeps, type LedgerPos } from "./auditLedger";
import { Breaks, ChainWalk, type ChainBreak } from "./chainWalk";

export type { ChainBreak } from "./chainWalk";

export interface AuditVerifyResponse {
  intact: boolean;
  checked_entries: number;
  checked_targets: number;
  breaks: ChainBreak[];
  next_cursor: string | null;
}

type VerifyDeps = LedgerDeps;

// `in` takes at most 30 values: a target's chains are verified 30 at a time.
const CHAINS_PER_QUERY = 30;
const DOCS_PER_READ = 500;

/**
 * Where a verification stands, as the cursor carries it: the ledger of
 * checkpoints (S, P), the chains in (chain, seq) order (L: after entry `t` of
 * chain `x`), or the documents in id order (D: after document `x`).
 */
type Pos = LedgerPos | { stage: "L"; chain: string; seq: number } | { stage: "D"; after: string };

function encodePos(p: Pos): string {
  if (p.stage === "L") return encodeCursor({ t: p.seq, d: `L|${p.chain}` });
  if (p.stage === "D") return encodeCursor({ t: 0, d: `D|${p.after}` });
  return encodeCursor({ t: p.t, d: `${p.stage}|${p.id}` });
}

function decodePos(raw: string): Pos {
  const c = decodeCursor(raw);
  const m = /^([SPLD])\|(.*)$/s.exec(c.d);
  if (!m || c.t < 0)
    throw invalidArgument([{ path: "cursor", message: "is not a cursor this service issued" }]);
  const [, stage, rest] = m;
  if (stage === "L") return { stage, chain: rest!, seq: c.t };
  if (stage === "D") return { stage, after: rest! };
  return { stage: stage as "S" | "P", id: rest!, t: c.t };
}

/** Whether `raw` is a cursor of this verification (one from an earlier release is not). */
export function isVerifyCursor(raw: string): boolean {
  try {
    decodePos(raw);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks the audit trail. Over everything: the ledger of checkpoints against
 * its anchor, the chains link by link (each entry's mac, sequence number and
 * link; at each chain's end its authenticated head), then every stored document
 * in id order, so an entry without a link (which no chain-ordered query sees) or
 * a document that is not an entry is found; `limit` items per call, continued
 * with `next_cursor`. With `target_id`: that target's documents and every chain
 * holding its entries or its heads.
 */
export async function auditVerify(
  deps: VerifyDeps,
  input: { target_id?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<AuditVerifyResponse> {
  const breaks = new Breaks();
  const pos = input.cursor ? decodePos(input.cursor) : null;
  const out =
    input.target_id === undefined
      ? await verifyAll(deps, pos, input.limit, breaks)
      : await verifyTarget(deps, input.target_id, pos, input.limit, breaks);
  return {
    intact: breaks.list.length === 0,
    checked_entries: out.entries,
    checked_targets: out.chains,
    breaks: breaks.list,
    next_cursor: out.next ? encodePos(out.next) : null,
  };
}

interface Progress {
  entries: number;
  chains: number;
  next: Pos | null;
}

async function verifyAll(
  deps: VerifyDeps,
  from: Pos | null,
  limit: number,
  breaks: Breaks,
): Promise<Progress> {
  let pos: Pos | null = from;
  let budget = limit;
  if (!pos || pos.stage === "S" || pos.stage === "P") {
    const ledger = await verifyLedger(deps, pos, budget, breaks);
    budget -= ledger.visited;
    if (ledger.next) return { entries: 0, chains: 0, next: ledger.next };
    pos = { stage: "L", chain: "", seq: 0 };
  }
  if (pos.stage === "L") {
    const walked = await walkChains(deps, pos.chain ? pos : null, undefined, budget, breaks);
    budget -= walked.entries;
    if (walked.next) return walked;
    const docs = await scanDocuments(deps, null, budget, breaks);
    return { entries: walked.entries + docs.entries, chains: walked.chains, next: docs.next };
  }
  return { ...(await scanDocuments(deps, pos.stage === "D" ? pos.after : null, budget, breaks)), chains: 0 };
}

/**
 * Every stored document in id order: one that is not a well-formed entry, or an
 * entry without a chain link, is a break. (Linked entries are checked by the walk.)
 */
async function scanDocuments(
  deps: VerifyDeps,
  after: string | null,
  budget: number,
  breaks: Breaks,
  targetId?: string,
): Promise<Omit<Progress, "chains"> & { chainsOfTarget: Set<string> }> {
  let cursor = after ? encodeCursor({ t: 0, d: after }) : null;
  let entries = 0;
  const chainsOfTarget = new Set<string>();
  do {
    const limit = Math.max(1, Math.min(DOCS_PER_READ, budget - entries));
    const page = await deps.audit.scanEntries({
      limit,
      cursor,
      ...(targetId !== undefined ? { targetId } : {}),
    });
    for (const { docId, entry } of page.items) {
      entries++;
      if (!entry) {
        breaks.add(null, { kind: "system", id: docId }, `document ${docId} is not a well-formed audit entry`);
      } else if (!entry.integrity) {
        breaks.add(
          entry,
          entry.target,
          "entry carries no chain link (not written by the service, or stripped)",
        );
      } else chainsOfTarget.add(entry.integrity.chain);
    }
    cursor = page.nextCursor;
    if (cursor && entries >= budget) {
      return { entries, chainsOfTarget, next: { stage: "D", after: decodeCursor(cursor).d } };
    }
  } while (cursor);
  return { entries, chainsOfTarget, next: null };
}

/** Walks chains in (chain, seq) order from `from` (all chains, or only `only`, 30 per query). */
async function walkChains(
  deps: VerifyDeps,
  from: { chain: string; seq: number } | null,
  only: string[] | undefined,
  budget: number,
  breaks: Breaks,
): Promise<Progress> {
  const resume = from && from.seq > 0 ? await previousLink(deps, from.chain, from.seq) : null;
  const walk = new ChainWalk(deps, breaks, resume);
  let cursor = from && from.seq > 0 ? encodeCursor({ t: from.seq, d: from.chain }) : null;
  let remaining = budget;
  const groups = only ? groupsOf(only, from?.chain) : [undefined];
  for (const group of groups) {
    if (remaining <= 0) {
      // Out of budget at a group boundary: resume at the start of this group's first chain.
      return { entries: walk.entries, chains: walk.chains, next: { stage: "L", chain: group![0]!, seq: 0 } };
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
      const c = decodeCursor(cursor);
      return { entries: walk.entries, chains: walk.chains, next: { stage: "L", chain: c.d, seq: c.t } };
    }
    await walk.finish();
    // Chains of the target holding a head but none of whose entries were found.
    for (const chain of group ?? [])
      if (!walk.seen.has(chain)) await walk.headOnly(chain, targetOfChain(chain));
  }
  return { entries: walk.entries, chains: walk.chains, next: null };
}

/** A target's documents (reported on the first call only), then every chain with its entries or heads. */
async function verifyTarget(
  deps: VerifyDeps,
  targetId: string,
  pos: Pos | null,
  limit: number,
  breaks: Breaks,
): Promise<Progress> {
  if (pos && pos.stage !== "L")
    throw invalidArgument([{ path: "cursor", message: "is not a cursor of this target" }]);
  const documents = await scanDocuments(
    deps,
    null,
    Number.MAX_SAFE_INTEGER,
    pos ? new Breaks() : breaks,
    targetId,
  );
  const held = await deps.audit.chainsHeldFor(targetId);
  const chains = [...new Set([...documents.chainsOfTarget, ...held])].sort();
  if (chains.length === 0) return { entries: 0, chains: 0, next: null };
  return walkChains(deps, pos, chains, limit, breaks);
}

function groupsOf(chains: string[], from?: string): string[][] {
  const rest = from === undefined || from === "" ? chains : chains.filter((c) => c >= from);
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
