import { createHash, randomBytes } from "node:crypto";
import type { ChainHead } from "../domain/auditChain";
import { encodeCursor } from "../domain/paging";
import { logs } from "../observability/logs";
import type { SweepState } from "../ports/saltStore";
import { auditVerify } from "./auditVerify";
import type { Services } from "./deps";

type AuditDeps = Pick<Services, "audit" | "auditKey" | "clock" | "config">;

const PAGE = 500;

/** Collects every chain head in sweep order and writes them as a checkpoint, page by page. */
export class CheckpointWriter {
  readonly id: string;
  private page: { chain: string; head: ChainHead }[] = [];
  private pages = 0;
  private chains = 0;
  private readonly hash = createHash("sha256");

  constructor(
    private readonly deps: AuditDeps,
    now: Date,
  ) {
    this.id = `cp_${now.getTime().toString(36)}_${randomBytes(4).toString("hex")}`;
  }

  async add(chain: string, head: ChainHead | null): Promise<void> {
    if (!head) return;
    this.hash.update(`${chain}\t${head.seq}\t${head.mac}\n`);
    this.chains++;
    this.page.push({ chain, head });
    if (this.page.length >= PAGE) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.page.length === 0) return;
    await this.deps.audit.putCheckpointPage(this.id, this.pages++, this.page);
    this.page = [];
  }

  /** Adds the heads kept in chain documents, then records the checkpoint and logs its digest. */
  async finish(): Promise<{ id: string; chains: number; digest: string }> {
    let cursor: string | null = null;
    do {
      const page = await this.deps.audit.listChainHeads({ limit: PAGE, cursor });
      for (const { chain, head } of page.items) await this.add(chain, head);
      cursor = page.nextCursor;
    } while (cursor);
    await this.flush();
    const summary = { id: this.id, chains: this.chains, digest: this.hash.digest("hex") };
    await this.deps.audit.finishCheckpoint({ ...summary, at: this.deps.clock(), pages: this.pages });
    logs.auditCheckpoint(summary);
    return summary;
  }
}

/**
 * Checks heads of the previous checkpoint against the trail now, a bounded
 * number per sweep: a chain gone, a head moved backwards or rewritten, or the
 * checkpointed entry changed since, is a break (truncation, deletion or a rewrite
 * an attacker made consistent inside the chain).
 */
export async function verifyCheckpoint(
  deps: AuditDeps,
  state: SweepState,
  breaks: string[],
): Promise<number> {
  const [latest] = await deps.audit.latestCheckpoints(1);
  if (!latest) return 0;
  let page = state.checkpoint_id === latest.id ? Number(state.checkpoint_page ?? 0) : 0;
  let checked = 0;
  while (checked < deps.config.checkpointVerifyPerSweep && page < latest.pages) {
    for (const { chain, head } of await deps.audit.checkpointPage(latest.id, page)) {
      checked++;
      const now = await deps.audit.headOf(chain);
      if (!now) breaks.push(`${chain}: chain is gone since checkpoint ${latest.id}`);
      else if (now.seq < head.seq)
        breaks.push(`${chain}: entries after ${now.seq} removed since ${latest.id}`);
      else if (now.seq === head.seq ? now.mac !== head.mac : !(await entryIs(deps, chain, head))) {
        breaks.push(`${chain}: entry ${head.seq} differs from checkpoint ${latest.id}`);
      }
    }
    page++;
  }
  Object.assign(state, { checkpoint_id: latest.id, checkpoint_page: page >= latest.pages ? 0 : page });
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
  for (const b of out.breaks)
    breaks.push(`${b.target.kind}:${b.target.id}${b.entry_id ? ` (${b.entry_id})` : ""}: ${b.problem}`);
  state.audit_cursor = out.next_cursor;
  return out.checked_entries;
}
