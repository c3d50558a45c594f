import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { composeServices } from "../functions/app/compose";
import { unsignedIdToken } from "../scripts/stack-client.mjs";
import { PROJECT_ID } from "../test/support/firestore";
import { testConfig } from "../test/support/runtimes";
import { emulatorLog, functionsHost } from "../test/support/stack";
import { header, latencyLine, stats } from "./util";

const INVOKER = "bigquery-demo@demo-salts.iam.gserviceaccount.com";
const ROWS = 1000;
const WARM_USERS = 1000;
const WARM_BATCHES = 40;
const IN_FLIGHT = 4;
const NEW_BATCHES = 20;

const url = () => `http://${functionsHost()}/${PROJECT_ID}/us-central1/salts-pseudonymizeBatch`;

async function post(body: object, correlationId: string): Promise<(string | null)[]> {
  const res = await fetch(url(), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${unsignedIdToken(INVOKER, url())}`,
      "x-correlation-id": correlationId,
    },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as { replies?: (string | null)[]; errorMessage?: string };
  if (res.status !== 200 || !answer.replies) throw new Error(`HTTP ${res.status}: ${answer.errorMessage}`);
  return answer.replies;
}

/** Storage requests and the function's own time of each batch, from its log line. */
function roundTrips(correlationIds: string[]): { reads: number; commits: number; ms: number }[] {
  const lines = emulatorLog()
    .split("\n")
    .filter((l) => l.includes('"bigquery batch"'));
  return correlationIds.map((id) => {
    const line = lines.find((l) => l.includes(`"correlation_id":"${id}"`));
    if (!line) throw new Error(`no log line for ${id}`);
    const fields = JSON.parse(line.slice(line.indexOf("{"))) as {
      storage_reads: number;
      storage_commits: number;
      latency_ms: number;
    };
    return { reads: fields.storage_reads, commits: fields.storage_commits, ms: fields.latency_ms };
  });
}

/**
 * salts-pseudonymizeBatch through the functions emulator over HTTP, in two parts:
 * (a) warm salts: rows/s through the endpoint (JSON and HTTP included, IN_FLIGHT batches at once) against
 *     the in-process library (pseudonymizeUserData per row) over the same rows;
 * (b) 1,000 new users per batch, one batch at a time: latency per batch and Firestore requests per batch.
 */
export async function benchBigquery(): Promise<Record<string, number>> {
  header("BigQuery: salts-pseudonymizeBatch over HTTP (functions emulator)");
  const run = randomBytes(4).toString("hex");
  const caller = `//bigquery.googleapis.com/projects/${PROJECT_ID}/jobs/${PROJECT_ID}:US.bquxjob_bench_${run}`;
  const users = Array.from({ length: WARM_USERS }, (_, i) => `bench-${run}-${i}`);
  const batches = Array.from({ length: WARM_BATCHES }, (_, b) =>
    Array.from({ length: ROWS }, (_, i) => [users[(b * 7 + i) % WARM_USERS]!, `value-${b}-${i}@example.com`]),
  );
  const body = (calls: string[][], n: number) => ({
    requestId: `bench-${run}-${n}`,
    caller,
    sessionUser: "bench@example.com",
    userDefinedContext: { mode: "user" },
    calls,
  });
  // Warm-up: every user's salt created and cached by the endpoint (and its worker started).
  await post(
    body(
      users.map((u) => [u, "warm"]),
      -1,
    ),
    `bench-${run}-warm`,
  );
  await post(body(batches[0]!, -2), `bench-${run}-warm2`);

  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < WARM_BATCHES) {
        const n = next++;
        await post(body(batches[n]!, n), `bench-${run}-w${n}`);
      }
    }),
  );
  const endpointRowsPerSecond = (WARM_BATCHES * ROWS) / ((performance.now() - start) / 1000);

  const library = composeServices({
    config: testConfig({
      projectId: PROJECT_ID,
      secretManagerHost: process.env.SECRET_MANAGER_EMULATOR_HOST!,
    }),
  });
  for (const u of users) await library.pseudonymizer.pseudonymizeUserData(u, { value: "warm" }, ["value"]);
  const libraryRate = async () => {
    const t = performance.now();
    for (const calls of batches)
      for (const [u, v] of calls)
        await library.pseudonymizer.pseudonymizeUserData(u!, { value: v }, ["value"]);
    return (WARM_BATCHES * ROWS) / ((performance.now() - t) / 1000);
  };
  await libraryRate();
  const libraryRowsPerSecond = await libraryRate();
  const ratio = endpointRowsPerSecond / libraryRowsPerSecond;
  const served = stats(
    roundTrips(Array.from({ length: WARM_BATCHES }, (_, n) => `bench-${run}-w${n}`)).map((r) => r.ms),
  );
  console.log(
    `(a) warm salts, ${WARM_BATCHES} batches of ${ROWS} rows, ${IN_FLIGHT} in flight: endpoint ${Math.round(endpointRowsPerSecond).toLocaleString("en")} rows/s, ` +
      `in-process library ${Math.round(libraryRowsPerSecond).toLocaleString("en")} rows/s: ${ratio.toFixed(2)}x (goal >= 0.5x)`,
  );
  console.log(
    `    the function's own time per batch (its log lines): p50 ${served.p50} ms, p95 ${served.p95} ms; the rest is HTTP through the emulator`,
  );

  const samples: number[] = [];
  const ids: string[] = [];
  for (let b = 0; b < NEW_BATCHES; b++) {
    const calls = Array.from({ length: ROWS }, (_, i) => [`bench-new-${run}-${b}-${i}`, `v${i}`]);
    const id = `bench-${run}-n${b}`;
    const t = performance.now();
    await post(body(calls, 1000 + b), id);
    samples.push(performance.now() - t);
    ids.push(id);
  }
  const s = stats(samples);
  const trips = roundTrips(ids);
  const requests = trips.map((r) => r.reads + r.commits);
  console.log(latencyLine(`(b) ${ROWS} new users per batch, one at a time`, s));
  console.log(
    `    p95 ${s.p95.toFixed(0)} ms per batch (goal < 1500 ms); Firestore requests per batch: ` +
      `${Math.min(...requests)}–${Math.max(...requests)} (reads ${trips[0]!.reads}, commits ${trips[0]!.commits}: ` +
      `one batched read, creates in commits of 500 sent together, the kept replies), in 3 sequential round trips (goal <= 3)`,
  );
  return {
    warm_endpoint_rows_per_s: endpointRowsPerSecond,
    warm_library_rows_per_s: libraryRowsPerSecond,
    warm_ratio: ratio,
    new_p50_ms: s.p50,
    new_p95_ms: s.p95,
    new_requests_max: Math.max(...requests),
  };
}
