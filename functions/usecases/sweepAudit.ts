import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { ChainHead } from "../domain/auditChain";
import { encodeCursor } from "../domain/paging";
import { logs } from "../observability/logs";
import type { Checkpoint, SweepState } from "../ports/saltStore";
import { auditVerify } from "./auditVerify";
import type { Services } from "./deps";

type AuditDeps = Pick<Services, "audit" | "auditKey" | "clock" | "config">;

const PAGE = 500;

/** A checkpoint's summary, MACed under the audit key: a forged or future-dated one is not trusted. */
export async function checkpointMac(
  deps: Pick<AuditDeps, "auditKey">,
  c: Omit<Checkpoint, "mac">,
): Promise<string> {
  const key = await deps.auditKey.current();
  return createHmac("sha256", key.bytes)
    .update(
      `salt-service/checkpoint/v1\0${c.id}\0${c.at.toISOString()}\0${c.chains}\0${c.digest}\0${c.pages}`,
    )
    .digest("base64url");
}

/**
 * Collects every chain head and writes them as a checkpoint, a page at a time;
 * it can span several sweeps (its state rides in the sweep state), since a
 * sweep scans a bounded number of salts. The digest is chained page by page.
 */
export class CheckpointWriter {
  private page: { chain: string; head: ChainHead }[] = [];

  private constructor(
    private readonly deps: AuditDeps,
    readonly id: string,
    private pages: number,
    private chains: number,
    private digest: string,
  ) {}

  /** The checkpoint the last sweep left open, or a new one. */
  static resume(deps: AuditDeps, state: SweepState): CheckpointWriter {
    if (typeof state.cp_id === "string") {
      return new CheckpointWriter(
        deps,
        state.cp_id,
        Number(state.cp_pages),
        Number(state.cp_chains),
        String(state.cp_digest),
      );
    }
    const id = `cp_${deps.clock().getTime().toString(36)}_${randomBytes(4).toString("hex")}`;
    return new CheckpointWriter(deps, id, 0, 0, "");
  }

  async add(chain: string, head: ChainHead | null): Promise<void> {
    if (!head) return;
    this.chains++;
    this.page.push({ chain, head });
    if (this.page.length >= PAGE) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.page.length === 0) return;
    const lines = this.page.map((h) => `${h.chain}\t${h.head.seq}\t${h.head.mac}\n`).join("");
    this.digest = createHash("sha256").update(this.digest).update(lines).digest("hex");
    await this.deps.audit.putCheckpointPage(this.id, this.pages++, this.page);
    this.page = [];
  }

  /** Where this checkpoint stands, for the next sweep to go on. */
  async save(state: SweepState): Promise<void> {
    await this.flush();
    Object.assign(state, {
      cp_id: this.id,
      cp_pages: this.pages,
      cp_chains: this.chains,
      cp_digest: this.digest,
    });
  }

  /** Adds the heads kept in chain documents, records the checkpoint (MACed) and logs its digest. */
  async finish(state: SweepState): Promise<{ id: string; chains: number; digest: string }> {
    let cursor: string | null = null;
    do {
      const page = await this.deps.audit.listChainHeads({ limit: PAGE, cursor });
      for (const { chain, head } of page.items) await this.add(chain, head);
      cursor = page.nextCursor;
    } while (cursor);
    await this.flush();
    const summary = { id: this.id, chains: this.chains, digest: this.digest };
    const c = { ...summary, at: this.deps.clock(), pages: this.pages };
    await this.deps.audit.finishCheckpoint({ ...c, mac: await checkpointMac(this.deps, c) });
    logs.auditCheckpoint(summary);
    for (const k of ["cp_id", "cp_pages", "cp_chains", "cp_digest"]) delete state[k];
    return summary;
  }
}

/** The checkpoint to check now: the one being checked if unfinished, else the newest; forged ones are breaks. */
async function checkpointToVerify(
  deps: AuditDeps,
  state: SweepState,
  breaks: string[],
): Promise<Checkpoint | null> {
  const now = deps.clock().getTime();
  for (const c of await deps.audit.latestCheckpoints(20)) {
    const expected = await checkpointMac(deps, c);
    const ok = c.mac.length === expected.length && timingSafeEqual(Buffer.from(c.mac), Buffer.from(expected));
    if (!ok || c.at.getTime() > now) {
      breaks.push(
        `checkpoint ${c.id} is not one the sweep wrote (${ok ? "dated in the future" : "bad mac"})`,
      );
      continue;
    }
    if (typeof state.checkpoint_id !== "string" || state.checkpoint_id === c.id) return c;
  }
  // The one being checked is gone (or none was): start on the newest trustworthy one.
  delete state.checkpoint_id;
  const [newest] = await deps.audit.latestCheckpoints(1);
  return newest && newest.at.getTime() <= now && newest.mac === (await checkpointMac(deps, newest))
    ? newest
    : null;
}

/**
 * Checks the heads of a checkpoint against the trail now, a bounded number
 * per sweep, carrying on with the same checkpoint until all its pages are
 * done: a chain gone, a head moved backwards or rewritten, or the checkpointed
 * entry missing or changed since, is a break (truncation, deletion, or a
 * rewrite an attacker made consistent inside the chain).
 */
export async function verifyCheckpoint(
  deps: AuditDeps,
  state: SweepState,
  breaks: string[],
): Promise<number> {
  const checkpoint = await checkpointToVerify(deps, state, breaks);
  if (!checkpoint) return 0;
  let page = state.checkpoint_id === checkpoint.id ? Number(state.checkpoint_page ?? 0) : 0;
  let checked = 0;
  while (checked < deps.config.checkpointVerifyPerSweep && page < checkpoint.pages) {
    for (const { chain, head } of await deps.audit.checkpointPage(checkpoint.id, page)) {
      checked++;
      const now = await deps.audit.headOf(chain);
      if (!now) breaks.push(`${chain}: chain is gone since checkpoint ${checkpoint.id}`);
      else if (now.seq < head.seq)
        breaks.push(`${chain}: entries after ${now.seq} removed since ${checkpoint.id}`);
      else if ((now.seq === head.seq && now.mac !== head.mac) || !(await entryIs(deps, chain, head))) {
        breaks.push(`${chain}: entry ${head.seq} is missing or differs from checkpoint ${checkpoint.id}`);
      }
    }
    page++;
  }
  if (page >= checkpoint.pages) {
    // Done with it: the next sweep takes the newest one.
    delete state.checkpoint_id;
    delete state.checkpoint_page;
  } else Object.assign(state, { checkpoint_id: checkpoint.id, checkpoint_page: page });
  return checked;
}

async function entryIs(deps: AuditDeps, chain: string, head: ChainHead): Promise<boolean> {
  const cursor = head.seq > 1 ? encodeCursor({ t: head.seq - 1, d: chain }) : null;
  const page = await deps.audit.scanChains({ limit: 1, chains: [chain], cursor });
  const link = page.items[0]?.entry.integrity;
  return link?.seq === head.seq && link.mac === head.mac;
}

/** Verifies the next AUDIT_VERIFY_PER_SWEEP entries of the trail, from where the last sweep stopped. */
export async function verifyTrailSlice(
  deps: AuditDeps,
  state: SweepState,
  breaks: string[],
): Promise<number> {
  if (deps.config.auditVerifyPerSweep === 0) return 0;
  const cursor = typeof state.audit_cursor === "string" ? state.audit_cursor : undefined;
  const out = await auditVerify(deps, { limit: deps.config.auditVerifyPerSweep, cursor });
  for (const b of out.breaks) {
    breaks.push(`${b.target.kind}:${b.target.id}${b.entry_id ? ` (${b.entry_id})` : ""}: ${b.problem}`);
  }
  state.audit_cursor = out.next_cursor;
  return out.checked_entries;
}
