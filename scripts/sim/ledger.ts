import { INDEX_SHARDS } from "../../functions/domain/ids";
import type { RangeFamily } from "./indexRanges";
import type { VirtualTime } from "./virtualTime";

/** The highest count any one-second window saw, per key; windows roll with the virtual clock. */
class PeakPerSecond {
  private second = -1;
  private current = new Map<string, number>();
  readonly peak = new Map<string, number>();

  add(second: number, key: string, n: number): void {
    if (second !== this.second) this.roll(second);
    const v = (this.current.get(key) ?? 0) + n;
    this.current.set(key, v);
    if (v > (this.peak.get(key) ?? 0)) this.peak.set(key, v);
  }

  private roll(second: number): void {
    this.second = second;
    this.current = new Map();
  }
}

export interface Totals {
  reads: number;
  writes: number;
  deletes: number;
  /** Billed reads of aggregation queries (one per 1,000 index entries, at least one). */
  aggregationReads: number;
  rotations: number;
  dispatches: number;
}

/**
 * Everything the model's storage and queue did, charged at the virtual time
 * it happened: totals for the cost model, and the peak one-second rates per
 * collection, per document, per index range and of task dispatches.
 */
export class Ledger {
  readonly totals: Totals = {
    reads: 0,
    writes: 0,
    deletes: 0,
    aggregationReads: 0,
    rotations: 0,
    dispatches: 0,
  };
  readonly collections = new PeakPerSecond();
  readonly documents = new PeakPerSecond();
  /** Per document, in one-minute windows: the sustained rate is this peak / 60. */
  readonly documentsPerMinute = new PeakPerSecond();
  readonly ranges = new PeakPerSecond();
  readonly dispatchRate = new PeakPerSecond();
  private readonly second: () => number;

  constructor(
    vt: VirtualTime,
    readonly families: RangeFamily[],
  ) {
    this.second = () => Math.floor(vt.elapsed());
  }

  read(n: number): void {
    this.totals.reads += n;
  }

  aggregation(indexEntries: number): void {
    this.totals.aggregationReads += Math.max(1, Math.ceil(indexEntries / 1000));
  }

  /** `n` writes to one document (job and shard progress, chain heads). */
  writeDoc(group: string, doc: string, n = 1): void {
    this.totals.writes += n;
    const s = this.second();
    this.collections.add(s, group, n);
    this.documents.add(s, `${group}/${doc}`, n);
    this.documentsPerMinute.add(Math.floor(s / 60), `${group}/${doc}`, n);
  }

  /** Writes of `count` rotations by group (the recorded template), spread by each salt's index shard. */
  rotations(template: Map<string, number>, shards: number[]): void {
    const s = this.second();
    const count = shards.length;
    this.totals.rotations += count;
    for (const [group, perRotation] of template) {
      this.totals.writes += perRotation * count;
      this.collections.add(s, group, perRotation * count);
    }
    const perShard = new Array<number>(INDEX_SHARDS).fill(0);
    for (const shard of shards) perShard[shard]!++;
    for (const family of this.families) {
      if (family.spread === "per-salt") continue;
      if (family.spread === "none") this.ranges.add(s, `${family.index}#0`, count);
      else perShard.forEach((v, shard) => v > 0 && this.ranges.add(s, `${family.index}#${shard}`, v));
    }
  }

  dispatched(): void {
    this.totals.dispatches++;
    this.dispatchRate.add(this.second(), "queue", 1);
  }

  /** Peak writes per second in any one range of each index family (per-salt families: at most one per salt). */
  rangePeaks(): { index: string; ranges: string; peak: number }[] {
    return this.families.map((f) => {
      let peak = 0;
      for (const [key, v] of this.ranges.peak) if (key.startsWith(`${f.index}#`)) peak = Math.max(peak, v);
      const ranges =
        f.spread === "shard" ? `${INDEX_SHARDS}` : f.spread === "per-salt" ? "one per salt" : "1";
      return { index: f.index, ranges, peak: f.spread === "per-salt" ? 1 : peak };
    });
  }
}
