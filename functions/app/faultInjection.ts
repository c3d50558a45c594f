import type { Firestore } from "firebase-admin/firestore";
import { unavailable } from "../domain/errors";
import type { SaltBackend } from "../ports/saltBackend";

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
  return new Proxy(backend, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (prop !== "rotate" || typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        if (done >= throwAfter) throw unavailable("injected fault: storage lost mid-shard");
        done++;
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
}
