/**
 * List prices the cost model uses (USD, Firestore Standard edition; sources in
 * docs/SCALE.md). Multi-region (nam5/eur3) per 100,000 documents; a regional
 * location such as us-central1 is about half of it.
 */
export const PRICES = {
  multiRegion: { readsPer100k: 0.06, writesPer100k: 0.18, deletesPer100k: 0.02 },
  regional: { readsPer100k: 0.03, writesPer100k: 0.09, deletesPer100k: 0.01 },
  /** Cloud Tasks: per million billable operations (enqueue, each dispatch attempt; 32 KB chunks) after the first million a month. */
  tasksPerMillion: 0.4,
} as const;

export interface Operations {
  reads: number;
  writes: number;
  deletes: number;
  taskOperations: number;
}

export function costOf(ops: Operations, where: keyof Omit<typeof PRICES, "tasksPerMillion">): number {
  const p = PRICES[where];
  return (
    (ops.reads / 1e5) * p.readsPer100k +
    (ops.writes / 1e5) * p.writesPer100k +
    (ops.deletes / 1e5) * p.deletesPer100k +
    (ops.taskOperations / 1e6) * PRICES.tasksPerMillion
  );
}
