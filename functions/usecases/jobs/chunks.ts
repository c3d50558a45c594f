import { chunksOf, zeroCounts, type JobCounts, type JobRecord } from "../../domain/jobs";
import { isStorageFault } from "../../domain/errors";
import { logs } from "../../observability/logs";
import type { CallContext } from "../deps";
import type { Pacer } from "./pacer";
import type { JobDeps, JobSpec, JobUnit, UnitOutcome } from "./spec";

/**
 * Runs units in chunks of the spec's size with bounded parallelism. A chunk
 * that fails for another reason than an outage is retried unit by unit, so one
 * bad record fails alone. A storage outage stops the run (what was committed
 * stays committed) and is rethrown.
 */
export async function runUnits<L>(
  deps: JobDeps,
  ctx: CallContext,
  spec: JobSpec<L>,
  job: JobRecord,
  units: JobUnit<L>[],
  pacer: Pacer,
): Promise<JobCounts> {
  const counts = zeroCounts();
  const tally = (outcome: UnitOutcome) => {
    if (outcome === "done") counts.done++;
    else counts.skipped++;
  };
  const chunks = chunksOf(units, spec.chunkSize);
  let outage: unknown = null;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (outage === null && next < chunks.length) {
      const chunk = chunks[next++]!;
      await pacer.take(chunk.length * spec.writesPerItem);
      try {
        (await spec.apply(deps, ctx, job, chunk)).forEach(tally);
        continue;
      } catch (e) {
        if (isStorageFault(e)) {
          outage ??= e;
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
            outage ??= single;
            return;
          }
          counts.failed++;
          logs.unexpectedError(`${spec.type}.item`, ctx.correlationId, single);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.config.concurrency, chunks.length) }, worker));
  if (outage !== null) throw outage;
  return counts;
}
