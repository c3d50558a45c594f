import { chunksOf, zeroCounts, type JobCounts, type JobRecord } from "../../domain/jobs";
import { isStorageFault } from "../../domain/errors";
import { logs } from "../../observability/logs";
import type { CallContext } from "../deps";
import type { Pacer } from "./pacer";
import type { JobDeps, JobSpec, JobUnit, UnitOutcome } from "./spec";

/** The next chunk of a run, or null when there is none; called by one worker at a time. */
export type ChunkSource<L> = () => Promise<JobUnit<L>[] | null>;

/** A source over units already in hand. */
export function chunkSourceOf<L>(units: JobUnit<L>[], size: number): ChunkSource<L> {
  const chunks = chunksOf(units, size);
  return () => Promise.resolve(chunks.shift() ?? null);
}

/**
 * Runs units in chunks of the spec's size with bounded parallelism. A chunk
 * that fails for another reason than an outage is retried unit by unit, so one
 * bad record fails alone. A storage outage stops the run (what was committed
 * stays committed) and is rethrown.
 */
export function runUnits<L>(
  deps: JobDeps,
  ctx: CallContext,
  spec: JobSpec<L>,
  job: JobRecord,
  units: JobUnit<L>[],
  pacer: Pacer,
): Promise<JobCounts> {
  return runChunks(deps, ctx, spec, job, chunkSourceOf(units, spec.chunkSize), pacer);
}

/**
 * `runUnits` over a source that may list as it goes: up to ROTATION_CONCURRENCY chunks are in
 * flight at every moment, across page boundaries, so a page costs no pause at its end. A source
 * that fails stops the run like an outage (chunks in flight finish first) and its error is rethrown.
 * `counts` is updated as chunks finish, so a caller can report progress while the run goes on.
 */
export async function runChunks<L>(
  deps: JobDeps,
  ctx: CallContext,
  spec: JobSpec<L>,
  job: JobRecord,
  source: ChunkSource<L>,
  pacer: Pacer,
  counts: JobCounts = zeroCounts(),
): Promise<JobCounts> {
  const tally = (outcome: UnitOutcome) => {
    if (outcome === "done") counts.done++;
    else counts.skipped++;
  };
  let stop: { error: unknown } | null = null;
  // One worker at a time asks the source (a source that lists must not list twice).
  let queue: Promise<unknown> = Promise.resolve();
  const next = (): Promise<JobUnit<L>[] | null> => {
    // A source that fails stops the run before the next worker's turn, so nobody asks again (a
    // listing must not go on against a failing store).
    const asked = queue.then(() => (stop === null ? source() : null));
    queue = asked.catch((error: unknown) => {
      stop ??= { error };
    });
    return asked;
  };
  const worker = async (): Promise<void> => {
    while (stop === null) {
      let chunk: JobUnit<L>[] | null;
      try {
        chunk = await next();
      } catch {
        return; // the queue recorded it
      }
      if (chunk === null || stop !== null) return;
      await pacer.take(chunk.length * spec.writesPerItem);
      try {
        (await spec.apply(deps, ctx, job, chunk)).forEach(tally);
        continue;
      } catch (e) {
        if (isStorageFault(e)) {
          stop ??= { error: e };
          return;
        }
      }
      for (const unit of chunk) {
        try {
          // Alone and without what the listing read: the unit is read again and decided afresh.
          const [outcome] = await spec.apply(deps, ctx, job, [{ item: unit.item }]);
          tally(outcome ?? "skipped");
        } catch (single) {
          if (isStorageFault(single)) {
            stop ??= { error: single };
            return;
          }
          counts.failed++;
          logs.unexpectedError(`${spec.type}.item`, ctx.correlationId, single);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: deps.config.concurrency }, worker));
  if (stop !== null) throw (stop as { error: unknown }).error;
  return counts;
}
