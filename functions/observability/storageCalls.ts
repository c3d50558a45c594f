import { AsyncLocalStorage } from "node:async_hooks";

/** Requests one piece of work sent to storage: reads (lookups, batched gets) and commits. */
export interface StorageCalls {
  reads: number;
  commits: number;
}

const current = new AsyncLocalStorage<StorageCalls>();

/**
 * Counts the storage round trips of one piece of work (a BigQuery batch): the adapters report each
 * request they send with `read()` / `commit()`, and whatever runs inside `count` is attributed to it,
 * however many batches an instance serves at once. Outside `count` reporting costs nothing.
 */
export const storageCalls = {
  async count<T>(work: () => Promise<T>): Promise<{ value: T; calls: StorageCalls }> {
    const calls: StorageCalls = { reads: 0, commits: 0 };
    const value = await current.run(calls, work);
    return { value, calls };
  },
  read(n = 1): void {
    const calls = current.getStore();
    if (calls) calls.reads += n;
  },
  commit(n = 1): void {
    const calls = current.getStore();
    if (calls) calls.commits += n;
  },
};
