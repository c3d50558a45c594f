import { MemoryJobStore } from "../../functions/adapters/memory/memoryJobStore";
import { MemoryOutbox } from "../../functions/adapters/memory/memoryOutbox";
import { MemorySaltStore } from "../../functions/adapters/memory/memorySaltStore";
import { MemoryState } from "../../functions/adapters/memory/memoryState";
import { outboxContract } from "../contract/outbox.contract";
import { makeDeps } from "../support/testDeps";

outboxContract("memory", async () => {
  const { deps, state } = makeDeps();
  const stored = new MemoryState();
  const committed: string[] = [];
  const events = { committed: (keys: readonly string[]) => void committed.push(...keys) };
  return {
    salts: new MemorySaltStore({ ...deps, events }, stored),
    jobs: new MemoryJobStore(stored, events),
    outbox: new MemoryOutbox(stored, deps.clock),
    state,
    committed,
    reset: async () => {},
    published: async (id) => {
      const e = stored.outbox.get(id);
      return e && !e.pending ? { expiresAt: e.expiresAt! } : null;
    },
  };
});
