/**
 * The capacity model of a BigQuery query over salts-pseudonymizeBatch (`npm run simulate -- --bigquery`).
 * Unlike the sweep model, a billion-row pass is not replayed call by call: it is integrated over time
 * in steps, from the code's own numbers (the DDL's max_batching_rows, the deployed instances and
 * concurrency, the salt cache's size and TTL, creates per commit, the write ramp of domain/ramp.ts)
 * and BigQuery's documented limits, with storage latencies and CPU costs as stated assumptions.
 */
import { defaultConfig, rampOf, type ServiceConfig } from "../../functions/config/config";
import { COMMIT_WRITES } from "../../functions/adapters/firestore/firestoreSaltBatches";
import { DDL_MAX_BATCHING_ROWS, MAX_BATCH_CALLS } from "../../functions/domain/bigquery";
import { rateAt } from "../../functions/domain/ramp";
import { SALT_CACHE_MAX_ENTRIES } from "../../functions/engine/saltCache";
import { PRICES } from "./prices";

/** BigQuery's documented limits for remote functions (docs/SCALE.md, sources). */
export const BIGQUERY_LIMITS = {
  concurrentQueries: 10,
  queryHours: 6,
  httpRetries: 20,
  responseBytes: 15 * 1024 * 1024,
};

/** Cloud Run (functions 2nd gen) list prices, tier 1, request-based billing (USD). */
export const RUN_PRICES = { vcpuSecond: 0.000024, gibSecond: 0.0000025, perMillionRequests: 0.4 };

/** Assumptions (measured on the emulators where said; `--latency name=value` changes one). */
export interface BigqueryCosts {
  /** Parse, check, HMAC and answer one row, warm: an instance's CPU per 1,000-row batch over 1,000 (bench
   * bigquery, the function served as on Cloud Run: 12.8–18.8 µs on 2026-12-03 with each batch's replies
   * kept; 5.4–6.8 µs on 2026-12-04 answered as of the query's pin, nothing stored per batch). */
  cpuPerRowUs: number;
  /** Open a salt read from storage (two AES-GCM decryptions). */
  cpuPerReadSaltUs: number;
  /** Make and seal a new salt and its shred secret. */
  cpuPerNewSaltUs: number;
  /** One batched lookup, plus per document. */
  readMs: number;
  readPerDocMs: number;
  /** One commit, plus per document. */
  commitMs: number;
  commitPerDocMs: number;
  /** HTTP between BigQuery and the function, per request. */
  httpMs: number;
}

export const DEFAULT_COSTS: BigqueryCosts = {
  cpuPerRowUs: 7,
  cpuPerReadSaltUs: 20,
  cpuPerNewSaltUs: 40,
  readMs: 15,
  readPerDocMs: 0.02,
  commitMs: 25,
  commitPerDocMs: 0.05,
  httpMs: 10,
};

export interface BigqueryInput {
  rows: number;
  users: number;
  /** Share of the users whose salts exist before the query (0: a first pass creates every one). */
  existing?: number;
  /** `random`: a user's rows spread over the table; `clustered`: a user's rows adjacent (CLUSTER BY user_id). */
  order?: "random" | "clustered";
  batchRows?: number;
  /** Queries running at once (BigQuery runs at most 10 with remote functions per project; the rest wait). */
  queries?: number;
  /** Share of a batch's salts found in the receiving instance's cache (default: see simulateBigquery). */
  cacheHitRatio?: number;
  config?: Partial<ServiceConfig>;
  costs?: Partial<BigqueryCosts>;
}

export interface BigqueryReport {
  input: Required<Omit<BigqueryInput, "config" | "costs" | "cacheHitRatio">>;
  config: Pick<
    ServiceConfig,
    "bigqueryMaxInstances" | "bigqueryConcurrency" | "cacheTtlSeconds" | "rampStartOps" | "rampMaxOps"
  >;
  costs: BigqueryCosts;
  batches: number;
  /** Distinct salts a batch needs, and the share of them a cache already holds. */
  saltsPerBatch: number;
  cacheHitRatio: number;
  /** Per batch: CPU seconds, wall seconds (CPU + round trips), Firestore requests and sequential round trips, at the pass's start. */
  batch: {
    cpuSeconds: number;
    wallSeconds: number;
    requests: number;
    roundTrips: number;
    replyBytes: number;
  };
  /** Rows per second one instance answers (warm, and while creating), and the fleet's ceiling. */
  rowsPerSecond: { perInstanceWarm: number; perInstanceCreating: number; fleet: number };
  seconds: number;
  /** What held the pass back most of the time: the instances, or the write ramp of salt creation. */
  limitedBy: "instances" | "write ramp";
  peakInstancesBusy: number;
  instanceSeconds: number;
  /** Salt creations per second on the paced pass (at most the ramp). */
  peakCreatesPerSecond: number;
  /**
   * What the endpoint would attempt at the start of the pass: it does not pace creation to the ramp (batch
   * jobs do), so a first pass's instances must be few enough; `instancesWithinRamp` is how many fit.
   */
  unpacedCreatesPerSecond: number;
  instancesWithinRamp: number;
  /** Salt reads per second at the pass's fastest (the model does not cap them; see docs/SCALE.md). */
  peakReadsPerSecond: number;
  queuedQueries: number;
  operations: { reads: number; writes: number; deletes: number; requests: number };
  cost: { firestore: number; functions: number; total: number; perBillionRows: number };
}

const STEP_SECONDS = 10;

/** The pass, integrated in steps of STEP_SECONDS of model time. */
export function simulateBigquery(input: BigqueryInput): BigqueryReport {
  const config = { ...defaultConfig(), ...input.config };
  const costs = { ...DEFAULT_COSTS, ...input.costs };
  const rows = input.rows;
  const users = input.users;
  const existing = input.existing ?? 0;
  const order = input.order ?? "random";
  const batchRows = Math.min(input.batchRows ?? DDL_MAX_BATCHING_ROWS, MAX_BATCH_CALLS);
  const queries = input.queries ?? 1;
  const instances = config.bigqueryMaxInstances;
  const concurrency = config.bigqueryConcurrency;
  const rowsPerUser = rows / users;

  // Distinct users in one batch: a random order almost never repeats a user within 1,000 rows of 100 M.
  const saltsPerBatch =
    order === "clustered"
      ? Math.max(1, batchRows / rowsPerUser)
      : users * (1 - Math.pow(1 - 1 / users, batchRows));
  // A user's next batch reaches a random instance, which holds the salt only if it loaded it within the
  // TTL, among at most SALT_CACHE_MAX_ENTRIES. Assumed 0 when the users outnumber what one instance
  // caches (right at 100 M users), 0.9 when they all fit; `cacheHitRatio` overrides it.
  const cacheHitRatio = input.cacheHitRatio ?? (users > SALT_CACHE_MAX_ENTRIES ? 0 : 0.9);

  const ramp = rampOf(config);
  const batchCost = (newShare: number) => {
    const loads = saltsPerBatch * (1 - cacheHitRatio);
    const created = loads * newShare;
    const cpu =
      (batchRows * costs.cpuPerRowUs +
        (loads - created) * costs.cpuPerReadSaltUs +
        created * costs.cpuPerNewSaltUs) /
      1e6;
    const creates = Math.ceil(created / COMMIT_WRITES);
    const readMs = loads > 0 ? costs.readMs + loads * costs.readPerDocMs : 0;
    const createMs =
      created > 0 ? costs.commitMs + Math.min(created, COMMIT_WRITES) * costs.commitPerDocMs : 0;
    // A query's batches store nothing of their own: its pin is read (or created) before the salts' read,
    // once per query per instance (counted in the pass's totals, not per batch).
    return {
      cpuSeconds: cpu,
      wallSeconds: cpu + (costs.httpMs + readMs + createMs) / 1000,
      requests: (loads > 0 ? Math.ceil(loads / 1000) : 0) + creates,
      roundTrips: (loads > 0 ? 1 : 0) + (creates > 0 ? 1 : 0),
      created,
      loads,
    };
  };
  // One instance, one vCPU: as many batches in flight as its concurrency, never more CPU than it has.
  const perInstance = (newShare: number) => {
    const b = batchCost(newShare);
    return Math.min(concurrency / b.wallSeconds, 1 / b.cpuSeconds) * batchRows;
  };

  let done = 0;
  let t = 0;
  let created = users * existing;
  let rampLimited = 0;
  let peakCreates = 0;
  let peakInstances = 0;
  let instanceSeconds = 0;
  let reads = 0;
  let peakReads = 0;
  while (done < rows) {
    if (t > 7 * 24 * 3600) throw new Error("the model did not finish within a week of model time");
    // A row is the first of its user with the probability that the user has no salt yet.
    const newShare = Math.max(0, 1 - created / users);
    const capacity = instances * perInstance(newShare);
    const createsPerRow = (saltsPerBatch / batchRows) * newShare;
    const rampRows = createsPerRow > 0 ? rateAt(ramp, t) / createsPerRow : Number.POSITIVE_INFINITY;
    const rate = Math.min(capacity, rampRows);
    if (rampRows < capacity) rampLimited += STEP_SECONDS;
    const step = Math.min(rate * STEP_SECONDS, rows - done);
    const seconds = step / rate;
    const b = batchCost(newShare);
    // Instances kept busy: the rate over what one instance answers (its CPU or its concurrency).
    const busy = rate / perInstance(newShare);
    peakInstances = Math.max(peakInstances, Math.min(instances, busy));
    instanceSeconds += Math.min(instances, Math.max(1, busy)) * seconds;
    peakCreates = Math.max(peakCreates, rate * createsPerRow);
    created = Math.min(users, created + step * createsPerRow);
    reads += (step / batchRows) * b.loads;
    peakReads = Math.max(peakReads, (rate / batchRows) * b.loads);
    done += step;
    t += seconds;
  }

  const startCreatesPerRow = (saltsPerBatch / batchRows) * (1 - existing);
  const perInstanceCreates = perInstance(1 - existing) * startCreatesPerRow;
  const batches = Math.ceil(rows / batchRows);
  const start = batchCost(1 - existing);
  const creations = users * (1 - existing);
  const replyBytes = batchRows * 62;
  // Each query's pin: created once, read once by every other instance that serves the query.
  const pinReads = queries * Math.max(0, Math.ceil(peakInstances) - 1);
  const writes = creations + queries; // every new salt, and each query's pin
  const deletes = queries; // the pins, by TTL a day later
  const requests = batches;
  const operations = { reads: reads + pinReads, writes, deletes, requests };
  const p = PRICES.multiRegion;
  const firestore =
    (operations.reads / 1e5) * p.readsPer100k +
    (writes / 1e5) * p.writesPer100k +
    (deletes / 1e5) * p.deletesPer100k;
  const memoryGib = 0.5;
  const functions =
    instanceSeconds * (RUN_PRICES.vcpuSecond + memoryGib * RUN_PRICES.gibSecond) +
    (requests / 1e6) * RUN_PRICES.perMillionRequests;
  const total = firestore + functions;
  return {
    input: { rows, users, existing, order, batchRows, queries },
    config: {
      bigqueryMaxInstances: instances,
      bigqueryConcurrency: concurrency,
      cacheTtlSeconds: config.cacheTtlSeconds,
      rampStartOps: config.rampStartOps,
      rampMaxOps: config.rampMaxOps,
    },
    costs,
    batches,
    saltsPerBatch,
    cacheHitRatio,
    batch: {
      cpuSeconds: start.cpuSeconds,
      wallSeconds: start.wallSeconds,
      requests: start.requests,
      roundTrips: start.roundTrips,
      replyBytes,
    },
    rowsPerSecond: {
      perInstanceWarm: perInstance(0),
      perInstanceCreating: perInstance(1),
      fleet: instances * perInstance(0),
    },
    seconds: t,
    limitedBy: rampLimited > t / 2 ? "write ramp" : "instances",
    peakInstancesBusy: peakInstances,
    instanceSeconds,
    peakCreatesPerSecond: peakCreates,
    peakReadsPerSecond: peakReads,
    unpacedCreatesPerSecond: instances * perInstanceCreates,
    instancesWithinRamp: perInstanceCreates > 0 ? ramp.maxOps / perInstanceCreates : Number.POSITIVE_INFINITY,
    queuedQueries: Math.max(0, queries - BIGQUERY_LIMITS.concurrentQueries),
    operations,
    cost: { firestore, functions, total, perBillionRows: (total / rows) * 1e9 },
  };
}

/** The cache's bound, for the report (a random order gives it nothing to hit at this size). */
export const cacheNote = (users: number) =>
  `each instance caches at most ${SALT_CACHE_MAX_ENTRIES.toLocaleString("en")} salts: ${(
    (SALT_CACHE_MAX_ENTRIES / users) *
    100
  ).toFixed(2)} % of ${users.toLocaleString("en")} users`;
