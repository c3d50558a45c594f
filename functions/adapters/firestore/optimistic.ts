import type { Firestore, WriteBatch } from "firebase-admin/firestore";
import { unavailable } from "../../domain/errors";
import { commitGuarded, type Guard } from "./errors";

// 5 NOT_FOUND (a document read was deleted since: TTL), 6 ALREADY_EXISTS (a racing creation),
// 9 FAILED_PRECONDITION (changed since read), 10 ABORTED.
const CONFLICT = new Set([5, 6, 9, 10]);
const MAX_ATTEMPTS = 60;

const isConflict = (e: unknown) => CONFLICT.has((e as { code?: number }).code ?? -1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What one decision staged: the outcome, and whether it wrote anything. */
export interface Staged<T> {
  outcome: T;
  writes: boolean;
}

/**
 * An optimistic commit: `stage` decides from what was read and stages its writes in one batch,
 * each under a precondition on the version read (or as a create). A conflicting commit changed
 * nothing; after a short jittered pause everything is read again (`reread`) and decided again.
 * No locks are held, so contenders never queue behind lock timeouts, and a decision is only ever
 * committed against the state it was made on. `busy`: the refusal when contention never ends.
 */
export async function commitOptimistically<R, T>(
  db: Firestore,
  guard: Guard,
  run: {
    read: R;
    reread: () => Promise<R>;
    stage: (batch: WriteBatch, read: R) => Promise<Staged<T>> | Staged<T>;
    busy: string;
  },
): Promise<T> {
  let read = run.read;
  for (let attempt = 0; ; attempt++) {
    const batch = db.batch();
    const staged = await run.stage(batch, read);
    if (!staged.writes) return staged.outcome;
    try {
      await commitGuarded(guard, () => batch.commit());
      return staged.outcome;
    } catch (e) {
      if (!isConflict(e)) throw e;
      if (attempt >= MAX_ATTEMPTS) throw unavailable(run.busy);
    }
    // Exponential, jittered, capped: contenders spread out instead of colliding again.
    await sleep(Math.min(100, 2 ** attempt) * (0.5 + Math.random()));
    read = await run.reread();
  }
}
