import { MemoryAuditStore } from "../../functions/adapters/memory/memoryAudit";
import { MemoryRequestStore } from "../../functions/adapters/memory/memoryRequests";
import { MemorySaltStore } from "../../functions/adapters/memory/memorySaltStore";
import { MemoryState } from "../../functions/adapters/memory/memoryState";
import { saltLocation } from "../../functions/domain/rotation";
import { rewrapContract } from "../contract/rewrap.contract";
import { backendContract } from "../contract/saltBackend.contract";
import { batchContract, type BatchHarness } from "../contract/saltBatches.contract";
import { makeDeps } from "../support/testDeps";

async function harness(): Promise<BatchHarness> {
  const { deps, state } = makeDeps();
  const stored = new MemoryState();
  return {
    backend: new MemorySaltStore(deps, stored),
    audit: new MemoryAuditStore(stored, deps.clock, deps.auditKey),
    requests: new MemoryRequestStore(stored, deps.clock),
    state,
    reset: async () => {},
    tamper: async (kind: "user" | "global", id: string) => {
      const s = stored.current.get(saltLocation(kind, id))!;
      s.enc.ct[0] = s.enc.ct[0]! ^ 0x01;
    },
    keepCopy: async (kind: "user" | "global", id: string) => {
      const location = saltLocation(kind, id);
      const current = structuredClone(stored.current.get(location)!);
      const versions = new Map(stored.versions.get(location) ?? []);
      return {
        putBack: async () => {
          stored.current.set(location, structuredClone(current));
          stored.versions.set(location, new Map(versions));
        },
        putCiphertextInto: async () => {
          stored.current.get(location)!.enc = structuredClone(current.enc);
        },
      };
    },
    copyCiphertext: async (kind: "user" | "global", from: string, to: string) => {
      const src = stored.current.get(saltLocation(kind, from))!;
      const dst = stored.current.get(saltLocation(kind, to))!;
      dst.enc = { ...src.enc };
    },
  };
}

backendContract("memory", harness);
batchContract("memory", harness);
rewrapContract("memory", harness);
