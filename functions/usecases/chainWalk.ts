import type { AuditEntry } from "../domain/audit";
import { headProblem, linkProblem, type ChainHead } from "../domain/auditChain";
import { encodeCursor } from "../domain/paging";
import type { VersionedSecret } from "../ports/secrets";
import type { Services } from "./deps";

export interface ChainBreak {
  entry_id?: string;
  target: AuditEntry["target"];
  problem: string;
}

export type WalkDeps = Pick<Services, "audit" | "auditKey">;

/** At most this many breaks are reported per call. */
export const MAX_BREAKS = 100;
// Entries appended to a chain while it was being read are followed up to this many before its head is compared.
const CATCH_UP = 1000;

/** The audit key's bytes by version, each loaded once per walk; null when that version is unavailable. */
export function keyring(secret: VersionedSecret): (version: number) => Promise<Buffer | null> {
  const loaded = new Map<number, Promise<Buffer | null>>();
  return (version) => {
    let found = loaded.get(version);
    if (!found) {
      found = secret.version(version).then(
        (k) => k.bytes,
        () => null,
      );
      loaded.set(version, found);
    }
    return found;
  };
}

/** Breaks found so far, capped. */
export class Breaks {
  readonly list: ChainBreak[] = [];
  add(entry: AuditEntry | null, target: AuditEntry["target"], problem: string): void {
    if (this.list.length < MAX_BREAKS)
      this.list.push({ ...(entry ? { entry_id: entry.id } : {}), target, problem });
  }
}

/**
 * A walk through chains in (chain, seq) order: each entry's mac under the key
 * version it names, its sequence number and its link to the entry before; at
 * each chain's end, that the head recorded for it (in its salt or chain document)
 * is its last entry and authenticates under the audit key, bound to what it follows.
 */
export class ChainWalk {
  entries = 0;
  chains = 0;
  /** Chains this walk has seen entries of. */
  readonly seen = new Set<string>();
  private current: { chain: string; last: ChainHead | null; target: AuditEntry["target"] } | null;
  readonly key: (version: number) => Promise<Buffer | null>;

  constructor(
    private readonly deps: WalkDeps,
    private readonly breaks: Breaks,
    resumeFrom: { chain: string; head: ChainHead; entry: AuditEntry } | null,
  ) {
    this.key = keyring(deps.auditKey);
    this.current = resumeFrom && {
      chain: resumeFrom.chain,
      last: resumeFrom.head,
      target: resumeFrom.entry.target,
    };
  }

  async visit(entry: AuditEntry): Promise<void> {
    const link = entry.integrity!;
    if (this.current?.chain !== link.chain) {
      await this.finish();
      this.chains++;
      this.current = { chain: link.chain, last: null, target: entry.target };
    }
    await this.check(entry);
  }

  private async check(entry: AuditEntry): Promise<void> {
    const link = entry.integrity!;
    const current = this.current!;
    this.entries++;
    this.seen.add(link.chain);
    const problem = linkProblem(entry, current.last, await this.key(link.key_version));
    if (problem) this.breaks.add(entry, entry.target, problem);
    current.last = { seq: link.seq, mac: link.mac };
    current.target = entry.target;
  }

  /** At a chain's end: its recorded head must be its last entry, and authentic. */
  async finish(): Promise<void> {
    const current = this.current;
    if (!current?.last) {
      this.current = null;
      return;
    }
    let record = await this.deps.audit.headOf(current.chain);
    if (record && record.head.seq > current.last.seq) {
      // Entries appended since this chain was read: follow them before comparing.
      const more = await this.deps.audit.scanChains({
        limit: Math.min(record.head.seq - current.last.seq, CATCH_UP),
        chains: [current.chain],
        cursor: encodeCursor({ t: current.last.seq, d: current.chain }),
      });
      for (const { entry } of more.items) await this.check(entry);
      if (more.items.length > 0) record = await this.deps.audit.headOf(current.chain);
    }
    this.current = null;
    const last = current.last;
    const flag = (problem: string) => this.breaks.add(null, current.target, problem);
    if (!record) return flag(`chain ${current.chain} has entries but no recorded head`);
    const { head } = record;
    if (head.seq !== last.seq || head.mac !== last.mac) {
      flag(
        head.seq > last.seq
          ? `entries ${last.seq + 1}..${head.seq} of the chain are missing (removed from the end)`
          : `the chain's recorded head (entry ${head.seq}) is not its last entry (${last.seq})`,
      );
    }
    const problem = headProblem(record.chain, head, record.bound, await this.key(head.key_version ?? 0));
    if (problem) flag(problem);
  }

  /** A chain that holds a head but none of whose entries were found: every one was removed. */
  async headOnly(chain: string, target: AuditEntry["target"]): Promise<void> {
    const record = await this.deps.audit.headOf(chain);
    if (record && record.head.seq >= 1) {
      this.breaks.add(null, target, `entries 1..${record.head.seq} of chain ${chain} are missing (removed)`);
    }
  }
}
