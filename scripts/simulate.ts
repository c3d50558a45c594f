// npm run simulate -- --salts 10000000 [--globals 100000] [--set RAMP_MAX_OPS=20000 ...] [--latency commitMs=80 ...]
// npm run simulate -- --bigquery --rows 1000000000 --users 100000000 [--existing 0.5] [--order clustered]
//   [--batch-rows 1000] [--queries 1] [--set BIGQUERY_MAX_INSTANCES=50 ...] [--latency commitMs=40 ...]
// A discrete-event model of a large sweep: the service's own batch-rotation code on virtual time
// (scripts/sim), with its real ramp, shard, page and queue settings. Prints what docs/SCALE.md uses.
import { readConfig, type ServiceConfig } from "../functions/config/config";
import { SETTINGS } from "../functions/config/settings";
import { WRITES_PER_ROTATION } from "../functions/domain/ramp";
import { simulate, type ModelReport } from "./sim/model";
import { costOf } from "./sim/prices";
import { simulateBigquery, type BigqueryCosts } from "./sim/bigquery";
import { printBigqueryReport } from "./sim/bigqueryReport";
import type { Latency } from "./sim/stores";

const LIMITS = {
  /** Writes per second to one index range holding a sequential value ("sharded timestamps"). */
  sequentialRange: 500,
  /** Sustained writes per second to one document. */
  document: 1,
  /** Cloud Tasks: dispatches per second per queue. */
  queueDispatch: 500,
  sweepHours: 6,
};

function parseArgs(argv: string[]) {
  const out = {
    salts: 10_000_000,
    globals: 0,
    bigquery: false,
    rows: 1_000_000_000,
    users: 100_000_000,
    existing: 0,
    order: "random" as "random" | "clustered",
    batchRows: undefined as number | undefined,
    queries: 1,
    env: {} as Record<string, string>,
    latency: {} as Partial<Latency>,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ""];
    if (flag === "--bigquery") {
      out.bigquery = true;
      continue;
    }
    if (flag === "--salts") out.salts = Number(value);
    else if (flag === "--rows") out.rows = Number(value);
    else if (flag === "--users") out.users = Number(value);
    else if (flag === "--existing") out.existing = Number(value);
    else if (flag === "--order") out.order = value === "clustered" ? "clustered" : "random";
    else if (flag === "--batch-rows") out.batchRows = Number(value);
    else if (flag === "--queries") out.queries = Number(value);
    else if (flag === "--globals") out.globals = Number(value);
    else if (flag === "--set") out.env[value.split("=")[0]!] = value.split("=")[1] ?? "";
    else if (flag === "--latency")
      out.latency[value.split("=")[0] as keyof Latency] = Number(value.split("=")[1]);
    else continue;
    i++;
  }
  return out;
}

const n = (x: number) => Math.round(x).toLocaleString("en");
const hms = (s: number) => `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min (${n(s)} s)`;
const verdict = (ok: boolean) => (ok ? "ok" : "EXCEEDED");

export function printReport(r: ModelReport): void {
  const c = r.config;
  const setting = (k: keyof ServiceConfig) => `${SETTINGS[k].env}=${String(c[k])}`;
  console.log(`# capacity model: ${n(r.due)} due salts, ${r.mode}`);
  console.log(
    `settings: ${(["rampStartOps", "rampMaxOps", "shardSize", "pageSize", "concurrency", "inlineLimit"] as const).map(setting).join(" ")}`,
  );
  console.log(`latency assumptions (ms): ${JSON.stringify(r.latency)}`);
  console.log(
    `\ntime to rotate everything due: ${hms(r.seconds)}  [${verdict(r.seconds < LIMITS.sweepHours * 3600)}: < ${LIMITS.sweepHours} h]`,
  );
  const perRotation = Object.values(r.writesPerRotation).reduce((a, b) => a + b, 0);
  console.log(
    `writes per rotation (read off the adapter): ${perRotation} (${Object.entries(r.writesPerRotation)
      .map(([g, v]) => `${g} ${v}`)
      .join(", ")}); WRITES_PER_ROTATION = ${WRITES_PER_ROTATION}`,
  );
  console.log(
    `task queue (queueLimits): maxDispatchesPerSecond ${r.queue.maxDispatchesPerSecond}, maxConcurrentDispatches ${r.queue.maxConcurrentDispatches}; tasks ${n(r.tasks.enqueued)}, dispatches ${n(r.tasks.dispatched)}, peak ${r.tasks.peakDispatchesPerSecond}/s  [${verdict(r.tasks.peakDispatchesPerSecond <= LIMITS.queueDispatch)}: <= ${LIMITS.queueDispatch}/s per queue]`,
  );
  console.log("\npeak writes per second, per collection group (one-second window):");
  for (const [g, v] of Object.entries(r.peakWritesPerSecond).sort((a, b) => b[1] - a[1]))
    console.log(`  ${g.padEnd(16)} ${n(v)}`);
  console.log(
    `\npeak writes per second, per index range (soft limit ${LIMITS.sequentialRange}/s where the value is sequential):`,
  );
  for (const x of r.indexRanges) {
    console.log(
      `  ${x.index.padEnd(46)} ranges ${x.ranges.padEnd(13)} peak ${n(x.peak)}/s  [${verdict(x.peak <= LIMITS.sequentialRange)}]`,
    );
  }
  const doc = r.peakWritesPerDocument;
  console.log(
    `\nbusiest document: ${doc.doc}: ${doc.peak} writes in its busiest second, ${doc.sustained.toFixed(1)}/s over its busiest minute  [${verdict(doc.sustained <= LIMITS.document)}: ~${LIMITS.document}/s sustained]`,
  );
  const t = r.totals;
  const deletes = t.rotations * (r.writesPerRotation.salt_versions ?? 0);
  const taskOperations = 2 * r.tasks.dispatched;
  const ops = { reads: t.reads + t.aggregationReads, writes: t.writes, deletes, taskOperations };
  console.log(
    `\noperations: ${n(ops.reads)} reads (${n(t.aggregationReads)} of them aggregation), ${n(t.writes)} writes, ${n(deletes)} TTL deletes later, ${n(taskOperations)} task operations`,
  );
  const perMillion = (where: "multiRegion" | "regional") => (costOf(ops, where) / t.rotations) * 1e6;
  console.log(
    `cost at list prices: $${costOf(ops, "multiRegion").toFixed(2)} this sweep; per million rotations $${perMillion("multiRegion").toFixed(2)} multi-region, $${perMillion("regional").toFixed(2)} regional`,
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = readConfig({ ...args.env });
  if (args.bigquery) {
    const { rows, users, existing, order, batchRows, queries } = args;
    const costs = args.latency as Partial<BigqueryCosts>;
    printBigqueryReport(
      simulateBigquery({ rows, users, existing, order, batchRows, queries, config, costs }),
    );
    return;
  }
  const report = await simulate({ users: args.salts, globals: args.globals, config, latency: args.latency });
  printReport(report);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
