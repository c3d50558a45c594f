import { MemoryAuditStore } from "../../functions/adapters/memory/memoryAudit";
import { MemorySaltStore } from "../../functions/adapters/memory/memorySaltStore";
import { MemoryState } from "../../functions/adapters/memory/memoryState";
import { saltLocation } from "../../functions/domain/rotation";
import { rewrapContract } from "../contract/rewrap.contract";
import { backendContract, type BackendHarness } from "../contract/saltBackend.contract";
import { makeDeps } from "../support/testDeps";

async function harness(): Promise<BackendHarness> {
  const { deps, state } = makeDeps();
  const stored = new MemoryState();
  return {
    backend: new MemorySaltStore(deps, stored),
    audit: new MemoryAuditStore(stored, deps.clock, deps.auditKey),
    state,
    reset: async () => {},
    tamper: async (kind, id) => {
      const s = stored.current.get(saltLocation(kind, id))!;
      s.enc.ct[0] = s.enc.ct[0]! ^ 0x01;
    },
    copyCiphertext: async (kind, from, to) => {
      const src = stored.current.get(saltLocation(kind, from))!;
      const dst = stored.current.get(saltLocation(kind, to))!;
      dst.enc = { ...src.enc };
    },
  };
}

backendContract("memory", harness);
rewrapContract("memory", harness);
