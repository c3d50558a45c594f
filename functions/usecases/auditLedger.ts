import type { AuditEntry } from "../domain/audit";
import { headProblem, saltOfChain } from "../domain/auditChain";
import {
  ledgerLinkProblem,
  pageProblem,
  summaryProblem,
  type CheckpointHead,
  type CheckpointSummary,
} from "../domain/auditLedger";
import { encodeCursor } from "../domain/paging";
import { MALFORMED } from "../ports/saltStore";
import { Breaks, keyring } from "./chainWalk";
import type { Services } from "./deps";

export type LedgerDeps = Pick<Services, "audit" | "auditKey" | "anchor" | "clock">;

/** Where a ledger check stands: walking summaries older than `id` (S), or page `t` of checkpoint `id` (P). */
export interface LedgerPos {
  stage: "S" | "P";
  id: string;
  t: number;
}

const LEDGER = { kind: "system", id: "audit-checkpoints" } as const;
const SUMMARIES_PER_READ = 100;

/** The entry a chain is about, for reporting (`salt:user:<id>:...` -> the user). */
export function targetOfChain(chain: string): AuditEntry["target"] {
  const salt = saltOfChain(chain);
  const m = /^log:(user|global|job|config|system):([A-Za-z0-9_-]*)$/.exec(chain);
  const decode = (s: string) => Buffer.from(s, "base64url").toString("utf8");
  if (salt) return { kind: salt.kind, id: decode(salt.docId) };
  if (m) return { kind: m[1] as AuditEntry["target"]["kind"], id: decode(m[2]!) };
  return { kind: "system", id: chain };
}

/** The newest checkpoint in the database that the sweep wrote (its mac checks), or null. */
export async function newestValidCheckpoint(deps: LedgerDeps): Promise<CheckpointSummary | null> {
  const key = keyring(deps.auditKey);
  const now = deps.clock();
  for (const c of await deps.audit.listCheckpoints({ limit: 20 })) {
    if ("malformed" in c) continue;
    if (summaryProblem(c, await key(c.key_version), now) === null) return c;
  }
  return null;
}

/** The newest anchored checkpoint when its own mac checks, else null. */
export async function anchoredCheckpoint(deps: LedgerDeps): Promise<CheckpointSummary | null> {
  const anchored = await deps.anchor.latest();
  if (!anchored || anchored === MALFORMED) return null;
  const key = await deps.auditKey.version(anchored.key_version).then(
    (k) => k.bytes,
    () => null,
  );
  return summaryProblem(anchored, key, deps.clock()) === null ? anchored : null;
}

/**
 * Checks the ledger of checkpoints, `budget` items at a time (a summary or a
 * head each), from `pos` (null: from the start). Stage S compares the newest
 * anchored checkpoint with the database (a deleted or changed newest checkpoint,
 * or all of them deleted, is found there) and walks the summaries newest first,
 * checking each mac and link (a checkpoint removed, forged or edited). Stage P
 * reads the pages of the newest valid checkpoint, each page's mac and its place
 * in the digest chain (a page removed, edited or reordered), and checks each head
 * against the trail now (a chain gone, truncated or rewritten since).
 */
export async function verifyLedger(
  deps: LedgerDeps,
  pos: LedgerPos | null,
  budget: number,
  breaks: Breaks,
): Promise<{ visited: number; next: LedgerPos | null }> {
  const flag = (problem: string, target: AuditEntry["target"] = LEDGER) => breaks.add(null, target, problem);
  const key = keyring(deps.auditKey);
  const now = deps.clock();
  let visited = 0;
  if (!pos || pos.stage === "S") {
    if (!pos) await compareAnchor(deps, flag);
    let newer: CheckpointSummary | null = null;
    if (pos?.id) {
      const at = await deps.audit.getCheckpoint(pos.id);
      newer = at && at !== MALFORMED ? at : null;
    }
    // Below the checkpoint the walk stopped at (S|<id> carries its sequence number in t).
    let beforeSeq = pos && pos.t > 0 ? pos.t : undefined;
    for (;;) {
      const limit = Math.min(SUMMARIES_PER_READ, Math.max(1, budget - visited));
      const list = await deps.audit.listCheckpoints({ limit, beforeSeq });
      let lowest = Infinity;
      for (const c of list) {
        visited++;
        if (Number.isFinite(c.seq)) lowest = Math.min(lowest, c.seq);
        if ("malformed" in c) {
          flag(`checkpoint document ${c.id} is not one the sweep wrote (malformed)`);
          continue;
        }
        const problem = summaryProblem(c, await key(c.key_version), now);
        if (problem) {
          flag(problem);
          continue;
        }
        const link = newer ? ledgerLinkProblem(newer, c) : null;
        if (link) flag(link);
        newer = c;
      }
      // A page of documents without a usable sequence number ends the walk (it could not go on past them).
      if (list.length < limit || lowest === Infinity) break;
      beforeSeq = lowest;
      if (visited >= budget) return { visited, next: { stage: "S", id: newer?.id ?? "", t: lowest } };
    }
    if (newer && (newer.seq !== 1 || newer.prev !== null))
      flag(`checkpoint${newer.seq > 2 ? `s 1..${newer.seq - 1} are` : " 1 is"} missing (removed)`);
    const newest = await newestValidCheckpoint(deps);
    if (!newest) return { visited, next: null };
    pos = { stage: "P", id: newest.id, t: 0 };
  }
  return verifyPages(deps, pos, budget - visited, visited, flag);
}

/** The newest anchored checkpoint must be in the database, unchanged. */
async function compareAnchor(deps: LedgerDeps, flag: (p: string) => void): Promise<void> {
  const where = deps.anchor.location ?? "the anchor";
  // Unreadable (Storage down, or access taken away): the ledger is not proved intact, and says why.
  const anchored = await deps.anchor.latest().catch((e: unknown) => {
    flag(
      `the anchor in ${where} could not be read (${(e as Error).message}): the newest checkpoint is unproved`,
    );
    return null;
  });
  if (!anchored) return;
  if (anchored === MALFORMED)
    return flag(`the newest checkpoint anchored in ${where} is not one the sweep wrote`);
  const key = await deps.auditKey.version(anchored.key_version).then(
    (k) => k.bytes,
    () => null,
  );
  const forged = summaryProblem(anchored, key, deps.clock());
  if (forged) return flag(`the newest checkpoint anchored in ${where}: ${forged}`);
  const stored = await deps.audit.getCheckpoint(anchored.id);
  if (!stored) {
    flag(`checkpoint ${anchored.seq} is anchored in ${where} but missing from the database (deleted)`);
  } else if (stored === MALFORMED || stored.mac !== anchored.mac || stored.digest !== anchored.digest) {
    flag(`checkpoint ${anchored.seq} differs from its copy anchored in ${where}`);
  }
}

async function verifyPages(
  deps: LedgerDeps,
  pos: LedgerPos,
  budget: number,
  visited: number,
  flag: (problem: string, target?: AuditEntry["target"]) => void,
): Promise<{ visited: number; next: LedgerPos | null }> {
  const key = keyring(deps.auditKey);
  const checkpoint = await deps.audit.getCheckpoint(pos.id);
  if (!checkpoint || checkpoint === MALFORMED) return { visited, next: null };
  const { id } = checkpoint;
  let n = pos.t;
  // The digest the next page must follow (undefined: unknown, after a missing or forged page).
  let prev: string | undefined = "";
  if (n > 0) {
    const before = await deps.audit.checkpointPage(id, n - 1);
    prev = before && before !== MALFORMED ? before.digest : undefined;
  }
  let checked = 0;
  while (checked < budget && n < checkpoint.pages) {
    const page = await deps.audit.checkpointPage(id, n);
    if (!page || page === MALFORMED) {
      flag(`page ${n} of checkpoint ${id} is ${page ? "not one the sweep wrote" : "missing (removed)"}`);
      prev = undefined;
      n++;
      continue;
    }
    const problem = pageProblem(id, n, page, prev ?? page.prev_digest, await key(page.key_version));
    if (problem) flag(`checkpoint ${id}: ${problem}`);
    for (const head of page.heads) {
      checked++;
      const found = await headAgainstTrail(deps, key, id, head);
      if (found) flag(found, targetOfChain(head.chain));
    }
    prev = problem ? undefined : page.digest;
    n++;
  }
  if (n < checkpoint.pages) return { visited: visited + checked, next: { stage: "P", id, t: n } };
  if (prev !== undefined && prev !== checkpoint.digest && checkpoint.pages > 0)
    flag(`the pages of checkpoint ${id} do not add up to its digest (a page was removed or replaced)`);
  return { visited: visited + checked, next: null };
}

/** Why the trail now no longer holds what checkpoint `id` recorded for a chain, or null. */
async function headAgainstTrail(
  deps: LedgerDeps,
  key: (v: number) => Promise<Buffer | null>,
  id: string,
  head: CheckpointHead,
): Promise<string | null> {
  const now = await deps.audit.headOf(head.chain);
  if (!now) return `${head.chain}: chain is gone since checkpoint ${id}`;
  if (now.head.seq < head.seq) return `${head.chain}: entries after ${now.head.seq} removed since ${id}`;
  const auth = headProblem(now.chain, now.head, now.bound, await key(now.head.key_version ?? 0));
  if (auth) return `${head.chain}: ${auth}`;
  if (now.head.seq === head.seq && now.head.mac !== head.mac) return differs(head, id);
  const cursor = head.seq > 1 ? encodeCursor({ t: head.seq - 1, d: head.chain }) : null;
  const page = await deps.audit.scanChains({ limit: 1, chains: [head.chain], cursor });
  const link = page.items[0]?.entry.integrity;
  return link?.seq === head.seq && link.mac === head.mac ? null : differs(head, id);
}

const differs = (head: CheckpointHead, id: string) =>
  `${head.chain}: entry ${head.seq} is missing or differs from checkpoint ${id}`;
