import type { CheckpointPage, CheckpointSummary } from "../../domain/auditLedger";
import type { CheckpointStore } from "../../ports/saltStore";
import type { MemoryState } from "./memoryState";

const copyPage = (p: CheckpointPage): CheckpointPage => ({ ...p, heads: p.heads.map((h) => ({ ...h })) });

/** Checkpoints kept in the memory state (per process, like everything else here). */
export class MemoryCheckpoints implements CheckpointStore {
  constructor(protected readonly state: MemoryState) {}

  async putCheckpointPage(id: string, page: CheckpointPage): Promise<void> {
    await Promise.resolve();
    this.state.checkpointPages.set(`${id}/${page.n}`, copyPage(page));
  }

  async finishCheckpoint(summary: CheckpointSummary): Promise<boolean> {
    await Promise.resolve();
    if (this.state.checkpoints.has(summary.id)) return false;
    this.state.checkpoints.set(summary.id, { ...summary });
    return true;
  }

  async listCheckpoints(page: {
    limit: number;
    beforeSeq?: number | undefined;
  }): Promise<CheckpointSummary[]> {
    await Promise.resolve();
    return [...this.state.checkpoints.values()]
      .filter((c) => page.beforeSeq === undefined || c.seq < page.beforeSeq)
      .sort((a, b) => b.seq - a.seq)
      .slice(0, page.limit)
      .map((c) => ({ ...c }));
  }

  async getCheckpoint(id: string): Promise<CheckpointSummary | null> {
    await Promise.resolve();
    const c = this.state.checkpoints.get(id);
    return c ? { ...c } : null;
  }

  async checkpointPage(id: string, n: number): Promise<CheckpointPage | null> {
    await Promise.resolve();
    const p = this.state.checkpointPages.get(`${id}/${n}`);
    return p ? copyPage(p) : null;
  }
}
