import type { CheckpointSummary } from "../../domain/auditLedger";
import type { AnchorStore } from "../../ports/anchorStore";

/** Anchors in process memory, write-once like a retention-locked bucket (tests of the ledger). */
export class MemoryAnchorStore implements AnchorStore {
  readonly location = "memory://anchors/";
  readonly objects = new Map<number, CheckpointSummary>();

  async latest(): Promise<CheckpointSummary | null> {
    await Promise.resolve();
    const newest = Math.max(0, ...this.objects.keys());
    const found = this.objects.get(newest);
    return found ? { ...found } : null;
  }

  async put(summary: CheckpointSummary): Promise<{ object: string; created: boolean }> {
    await Promise.resolve();
    const object = `${this.location}${summary.seq}`;
    if (this.objects.has(summary.seq)) return { object, created: false };
    this.objects.set(summary.seq, { ...summary });
    return { object, created: true };
  }
}
