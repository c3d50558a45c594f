import { headProblem, type HeadBinding, type SealedHead } from "../domain/auditChain";
import {
  checkpointId,
  sealPage,
  sealSummary,
  type CheckpointHead,
  type CheckpointSummary,
} from "../domain/auditLedger";
import { decodeCursor, encodeCursor } from "../domain/paging";
import { logs } from "../observability/logs";
import type { SweepState } from "../ports/saltStore";
import { anchoredCheckpoint, newestValidCheckpoint, verifyLedger, type LedgerPos } from "./auditLedger";
import { auditVerify, isVerifyCursor } from "./auditVerify";
import { Breaks, keyring } from "./chainWalk";
import type { Services } from "./deps";

type AuditDeps = Pick<Services, "audit" | "auditKey" | "anchor" | "clock" | "config">;

const PAGE = 500;

/** The checkpoint the next one follows: the newest one in the database or anchored, whichever is newer. */
async function ledgerTip(deps: AuditDeps): Promise<{ seq: number; mac: string | null }> {
  const [stored, anchored] = await Promise.all([
    newestValidCheckpoint(deps),
    anchoredCheckpoint(deps).catch(() => null),
  ]);
  const tip = [stored, anchored]
    .filter((c): c is CheckpointSummary => c !== null)
    .sort((a, b) => b.seq - a.seq)[0];
  return tip ? { seq: tip.seq, mac: tip.mac } : { seq: 0, mac: null };
}

/** Nothing checkpointed yet: no valid checkpoint in the database, and the anchor (if any) read and empty. */
async function isFirstPass(deps: AuditDeps): Promise<boolean> {
  if (await newestValidCheckpoint(deps)) return false;
  if (!deps.anchor.location) return true;
  return (await deps.anchor.latest().catch(() => "unreadable" as const)) === null;
}

/**
 * Collects every chain head and writes them as the next checkpoint of the
 * ledger, a MACed page at a time, each page chained on the one before; it can
 * span several sweeps (its state rides in the sweep state), since a sweep scans
 * a bounded number of salts. A head that does not authenticate is reported.
 */
export class CheckpointWriter {
  private page: CheckpointHead[] = [];
  private readonly key: (v: number) => Promise<Buffer | null>;
  /** Whether this is the ledger's first pass (nothing checkpointed or anchored yet), decided once. */
  private firstPass: Promise<boolean> | null = null;
  /** Heads from before heads were authenticated that this run sealed. */
  sealed = 0;

  private constructor(
    private readonly deps: AuditDeps,
    private readonly breaks: string[],
    private readonly seq: number,
    private readonly prev: string | null,
    private pages: number,
    private chains: number,
    private digest: string,
  ) {
    this.key = keyring(deps.auditKey);
  }

  get id(): string {
    return checkpointId(this.seq);
  }

  /** The checkpoint the last sweep left open, or a new one following the ledger's newest. */
  static async resume(deps: AuditDeps, state: SweepState, breaks: string[]): Promise<CheckpointWriter> {
    // An earlier release's checkpoint in progress (`cp_id`, unchained) is abandoned; its keys go.
    for (const k of ["cp_id", "checkpoint_id", "checkpoint_page"]) delete state[k];
    const open = typeof state.cp_seq === "number" && state.cp_seq >= 1 ? state.cp_seq : null;
    // A checkpoint that exists already is never written over (a sweep state pointing at one was changed).
    if (open !== null && (await deps.audit.getCheckpoint(checkpointId(open))) !== null) {
      breaks.push(
        `the sweep state names checkpoint ${open} as unfinished, but it exists: starting a new one`,
      );
    } else if (open !== null) {
      const prev = typeof state.cp_prev === "string" ? state.cp_prev : null;
      return new CheckpointWriter(
        deps,
        breaks,
        open,
        prev,
        Number(state.cp_pages),
        Number(state.cp_chains),
        String(state.cp_digest ?? ""),
      );
    }
    const tip = await ledgerTip(deps);
    return new CheckpointWriter(deps, breaks, tip.seq + 1, tip.mac, 0, 0, "");
  }

  async add(chain: string, head: SealedHead | null, bound: HeadBinding): Promise<void> {
    if (!head) return;
    const problem = headProblem(chain, head, bound, await this.key(head.key_version ?? 0));
    if (problem && !(head.auth === undefined && (await this.sealLegacy(chain, head, bound))))
      this.breaks.push(`${chain}: ${problem}`);
    this.chains++;
    this.page.push({ chain, seq: head.seq, mac: head.mac });
    if (this.page.length >= PAGE) await this.flush();
  }

  /**
   * The upgrade: on the ledger's first pass only (no checkpoint in the database or the anchor yet),
   * a head written before heads were authenticated is sealed where it is kept, if it is its chain's
   * last entry (present, same mac, nothing after it). Later, such a head is a break.
   */
  private async sealLegacy(chain: string, head: SealedHead, bound: HeadBinding): Promise<boolean> {
    this.firstPass ??= isFirstPass(this.deps);
    if (!(await this.firstPass)) return false;
    const cursor = head.seq > 1 ? encodeCursor({ t: head.seq - 1, d: chain }) : null;
    const next = await this.deps.audit.scanChains({ limit: 2, chains: [chain], cursor });
    const last = next.items[0]?.entry.integrity;
    if (next.items.length !== 1 || last?.seq !== head.seq || last.mac !== head.mac) return false;
    const ok = await this.deps.audit.sealLegacyHead(
      { chain, head, bound },
      await this.deps.auditKey.current(),
    );
    if (ok) this.sealed++;
    return ok;
  }

  private async flush(): Promise<void> {
    if (this.page.length === 0) return;
    const key = await this.deps.auditKey.current();
    const page = sealPage(this.id, this.pages, this.page, this.digest, key);
    await this.deps.audit.putCheckpointPage(this.id, page);
    this.digest = page.digest;
    this.pages++;
    this.page = [];
  }

  /** Where this checkpoint stands, for the next sweep to go on. */
  async save(state: SweepState): Promise<void> {
    await this.flush();
    Object.assign(state, {
      cp_seq: this.seq,
      cp_prev: this.prev,
      cp_pages: this.pages,
      cp_chains: this.chains,
      cp_digest: this.digest,
    });
  }

  /**
   * Adds the heads kept in chain documents, records the checkpoint (MACed and
   * chained on the one before), anchors it outside the database and logs it.
   */
  async finish(
    state: SweepState,
  ): Promise<{ id: string; seq: number; chains: number; digest: string } | undefined> {
    let cursor: string | null = null;
    do {
      const page = await this.deps.audit.listChainHeads({ limit: PAGE, cursor });
      for (const { chain, head, bound } of page.items) await this.add(chain, head, bound);
      cursor = page.nextCursor;
    } while (cursor);
    await this.flush();
    for (const k of ["cp_seq", "cp_prev", "cp_pages", "cp_chains", "cp_digest"]) delete state[k];
    const key = await this.deps.auditKey.current();
    const fields = { id: this.id, seq: this.seq, prev: this.prev, at: this.deps.clock() };
    const summary = sealSummary(
      { ...fields, chains: this.chains, pages: this.pages, digest: this.digest },
      key,
    );
    if (!(await this.deps.audit.finishCheckpoint(summary))) {
      this.breaks.push(`checkpoint ${this.id} exists already: this pass's checkpoint was not recorded`);
      return undefined;
    }
    const anchor = await anchorCheckpoint(this.deps, summary);
    logs.auditCheckpoint({ ...summaryFields(summary), mac: summary.mac, anchor });
    return summaryFields(summary);
  }
}

const summaryFields = (s: CheckpointSummary) => ({
  id: s.id,
  seq: s.seq,
  chains: s.chains,
  digest: s.digest,
});

/** Anchors a checkpoint (a write-once object); a failure is logged and the next sweep catches up. */
async function anchorCheckpoint(deps: AuditDeps, summary: CheckpointSummary): Promise<string | null> {
  if (!deps.anchor.location) return null;
  try {
    return (await deps.anchor.put(summary)).object;
  } catch (e) {
    logs.auditAnchorFailed(summary.id, e);
    return null;
  }
}

/** The newest checkpoint in the database is anchored, if it is newer than the newest anchor. */
export async function catchUpAnchor(deps: AuditDeps): Promise<void> {
  if (!deps.anchor.location) return;
  const newest = await newestValidCheckpoint(deps);
  const anchored = await anchoredCheckpoint(deps).catch(() => null);
  if (newest && (!anchored || anchored.seq < newest.seq)) await anchorCheckpoint(deps, newest);
}

function ledgerPos(state: SweepState): LedgerPos | null {
  if (typeof state.ledger_pos !== "string") return null;
  try {
    const c = decodeCursor(state.ledger_pos);
    const m = /^([SP])\|(.*)$/.exec(c.d);
    return m ? { stage: m[1] as "S" | "P", id: m[2]!, t: c.t } : null;
  } catch {
    return null;
  }
}

/**
 * Checks the ledger of checkpoints (against its anchor, then the newest
 * checkpoint's pages and heads against the trail now), CHECKPOINT_VERIFY_PER_SWEEP
 * items per sweep, going on from where the last stopped; a full round starts
 * again with the anchor.
 */
export async function verifyCheckpoint(
  deps: AuditDeps,
  state: SweepState,
  breaks: string[],
): Promise<number> {
  if (deps.config.checkpointVerifyPerSweep === 0) return 0;
  const found = new Breaks();
  const out = await verifyLedger(deps, ledgerPos(state), deps.config.checkpointVerifyPerSweep, found);
  for (const b of found.list) breaks.push(b.problem);
  state.ledger_pos = out.next ? encodeCursor({ t: out.next.t, d: `${out.next.stage}|${out.next.id}` }) : null;
  return out.visited;
}

/** Verifies the next AUDIT_VERIFY_PER_SWEEP entries of the trail, from where the last sweep stopped. */
export async function verifyTrailSlice(
  deps: AuditDeps,
  state: SweepState,
  breaks: string[],
): Promise<number> {
  if (deps.config.auditVerifyPerSweep === 0) return 0;
  const stored = state.audit_cursor;
  const cursor = typeof stored === "string" && isVerifyCursor(stored) ? stored : undefined;
  // The ledger is the sweep's own check above: the trail slice goes on with the chains and documents.
  const out = await auditVerify(deps, {
    limit: deps.config.auditVerifyPerSweep,
    cursor: cursor ?? encodeCursor({ t: 0, d: "L|" }),
  });
  for (const b of out.breaks) {
    breaks.push(`${b.target.kind}:${b.target.id}${b.entry_id ? ` (${b.entry_id})` : ""}: ${b.problem}`);
  }
  state.audit_cursor = out.next_cursor;
  return out.checked_entries;
}
