import { MemorySaltBackend } from "../../functions/adapters/memory/memoryBackend";
import { saltLocation } from "../../functions/domain/rotation";
import { backendContract } from "../contract/saltBackend.contract";
import { makeDeps } from "../support/testDeps";

backendContract("memory", async () => {
  const { deps, state } = makeDeps();
  const backend = new MemorySaltBackend(deps);
  const raw = () => backend.rawStore().current;
  return {
    backend,
    state,
    reset: async () => {},
    tamper: async (kind, id) => {
      const stored = raw().get(saltLocation(kind, id))!;
      stored.enc.ct[0] = stored.enc.ct[0]! ^ 0x01;
    },
    copyCiphertext: async (kind, from, to) => {
      const src = raw().get(saltLocation(kind, from))!;
      const dst = raw().get(saltLocation(kind, to))!;
      dst.enc = { ...src.enc };
    },
  };
});
