import type { Firestore } from "firebase-admin/firestore";
import { unavailable } from "../domain/errors";
import type { BatchRotateItem, RotateOutcome, SaltBackend } from "../ports/saltBackend";

/**
 * Emulator-only fault injection for end-to-end tests of retries: when the
 * document `salts_meta/fault_injection` asks for it, the next shard task dies
 * after `throw_after` rotations, as an instance losing storage mid-shard would.
 * Never consulted outside the Functions emulator.
 */
export async function takeShardFault(db: Firestore): Promise<number | null> {
  if (process.env.FUNCTIONS_EMULATOR !== "true") return null;
  const ref = db.collection("salts_meta").doc("fault_injection");
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const left = Number(snap.get("shard_failures_left") ?? 0);
    if (!snap.exists || left <= 0) return null;
    tx.update(ref, { shard_failures_left: left - 1 });
    return Number(snap.get("throw_after") ?? 0);
  });
}

/** The same backend, except that rotations after the first `throwAfter` fail as an outage. */
export function failingAfter(backend: SaltBackend, throwAfter: number): SaltBackend {
  let done = 0;
  const rotateMany = async (items: BatchRotateItem[]): Promise<RotateOutcome[]> => {
    const allowed = Math.max(0, throwAfter - done);
    if (allowed > 0) {
      done += Math.min(allowed, items.length);
      const outcomes = await backend.rotateMany(items.slice(0, allowed));
      if (allowed >= items.length) return outcomes;
    }
    throw unavailable("injected fault: storage lost mid-shard");
  };
  const rotate: SaltBackend["rotate"] = async (kind, id, request) => {
    const [out] = await rotateMany([{ kind, id, request }]);
    return out!;
  };
  return new Proxy(backend, {
    get(target, prop, receiver) {
      if (prop === "rotateMany") return rotateMany;
      if (prop === "rotate") return rotate;
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}
