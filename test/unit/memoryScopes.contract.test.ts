import { MemoryAuditStore } from "../../functions/adapters/memory/memoryAudit";
import { MemoryScopeStore } from "../../functions/adapters/memory/memoryScopeStore";
import { MemoryState } from "../../functions/adapters/memory/memoryState";
import { scopeStoreContract } from "../contract/scopeStore.contract";
import { makeDeps } from "../support/testDeps";

scopeStoreContract("memory", async () => {
  const { deps, state } = makeDeps();
  const stored = new MemoryState();
  return {
    scopes: new MemoryScopeStore(deps, stored),
    audit: new MemoryAuditStore(stored, deps.clock, deps.auditKey),
    state,
    reset: async () => {},
    tamper: async (scopeId) => {
      const s = stored.scopes.get(scopeId)!;
      s.secret.ct[0] = s.secret.ct[0]! ^ 0x01;
    },
    copySecret: async (from, to) => {
      stored.scopes.get(to)!.secret = { ...stored.scopes.get(from)!.secret };
    },
  };
});
