import { BIGQUERY_LIMITS, cacheNote, RUN_PRICES, type BigqueryReport } from "./bigquery";

const n = (x: number) => Math.round(x).toLocaleString("en");
const hms = (s: number) => `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
const verdict = (ok: boolean) => (ok ? "ok" : "EXCEEDED");

/** What `npm run simulate -- --bigquery` prints (docs/SCALE.md, "BigQuery: a billion rows"). */
export function printBigqueryReport(r: BigqueryReport): void {
  const i = r.input;
  console.log(
    `# capacity model: BigQuery query over salts-pseudonymizeBatch: ${n(i.rows)} rows, ${n(i.users)} users (${i.order} order, ${(i.existing * 100).toFixed(0)} % of salts already exist)`,
  );
  console.log(
    `settings: max_batching_rows=${i.batchRows} BIGQUERY_MAX_INSTANCES=${r.config.bigqueryMaxInstances} BIGQUERY_CONCURRENCY=${r.config.bigqueryConcurrency} SALT_CACHE_TTL_SECONDS=${r.config.cacheTtlSeconds} RAMP_START_OPS=${r.config.rampStartOps} RAMP_MAX_OPS=${r.config.rampMaxOps}`,
  );
  console.log(`assumptions (CPU µs, storage ms): ${JSON.stringify(r.costs)}`);
  console.log(`cache: ${cacheNote(i.users)}; hit ratio taken as ${r.cacheHitRatio}`);
  console.log(
    `\nbatches: ${n(r.batches)} of ${i.batchRows} rows, ${r.saltsPerBatch.toFixed(0)} distinct salts each; a first-pass batch: ${r.batch.requests} Firestore requests in ${r.batch.roundTrips} round trips, ${(r.batch.wallSeconds * 1000).toFixed(0)} ms (${(r.batch.cpuSeconds * 1000).toFixed(1)} ms CPU), reply ${n(r.batch.replyBytes)} bytes  [${verdict(r.batch.replyBytes < BIGQUERY_LIMITS.responseBytes)}: < 15 MB]`,
  );
  console.log(
    `rows per second: one instance ${n(r.rowsPerSecond.perInstanceWarm)} warm, ${n(r.rowsPerSecond.perInstanceCreating)} while creating every salt; the fleet ${n(r.rowsPerSecond.fleet)} warm`,
  );
  console.log(
    `\nwall time: ${hms(r.seconds)} (${n(r.seconds)} s), limited by ${r.limitedBy}  [${verdict(r.seconds < BIGQUERY_LIMITS.queryHours * 3600)}: a query runs at most ${BIGQUERY_LIMITS.queryHours} h]`,
  );
  console.log(
    `instances: up to ${r.peakInstancesBusy.toFixed(0)} busy of ${r.config.bigqueryMaxInstances}; ${n(r.instanceSeconds)} instance-seconds`,
  );
  console.log(
    `salt creation, paced to the ramp (the wall time above): peak ${n(r.peakCreatesPerSecond)} creates/s  [${verdict(r.peakCreatesPerSecond <= r.config.rampMaxOps * 1.0001)}: <= RAMP_MAX_OPS, on the 500/50/5 ramp]`,
  );
  if (r.unpacedCreatesPerSecond > 0)
    console.log(
      `salt creation as the endpoint does it (unpaced): ${n(r.unpacedCreatesPerSecond)} creates/s at the start with every instance busy  [${verdict(r.unpacedCreatesPerSecond <= r.config.rampMaxOps)}: <= RAMP_MAX_OPS]; instances that stay within it: ${r.instancesWithinRamp >= 1 ? Math.floor(r.instancesWithinRamp) : `${r.instancesWithinRamp.toFixed(2)} (lower BIGQUERY_CONCURRENCY)`}`,
    );
  console.log(
    `salt reads: peak ${n(r.peakReadsPerSecond)} reads/s (not capped by the model: Firestore's 500/50/5 guidance covers reads of cold ranges too)`,
  );
  console.log(
    `queries: ${i.queries} at once  [${verdict(r.queuedQueries === 0)}: ${BIGQUERY_LIMITS.concurrentQueries} with remote functions per project${r.queuedQueries ? `, ${r.queuedQueries} wait` : ""}]`,
  );
  const o = r.operations;
  console.log(
    `\noperations: ${n(o.reads)} reads, ${n(o.writes)} writes (new salts, and one pin per query), ${n(o.deletes)} TTL deletes a day later, ${n(o.requests)} HTTP requests; nothing stored per batch`,
  );
  console.log(
    `cost at list prices: Firestore $${r.cost.firestore.toFixed(2)} (multi-region), functions $${r.cost.functions.toFixed(2)} (${JSON.stringify(RUN_PRICES)} per vCPU-s, GiB-s, million requests; 1 vCPU, 512 MiB); total $${r.cost.total.toFixed(2)}, per billion rows $${r.cost.perBillionRows.toFixed(2)} (BigQuery's own query price not included)`,
  );
}
