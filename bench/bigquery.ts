import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { composeServices } from "../functions/app/compose";
import { serveBatch } from "../functions/edge/remoteFunction";
import { readSecrets } from "../scripts/lib/secrets.mjs";
import { unsignedIdToken } from "../scripts/stack-client.mjs";
import { PROJECT_ID } from "../test/support/firestore";
import { testConfig } from "../test/support/runtimes";
import { functionEnv, ROOT } from "../test/support/functionInstance";
import { emulatorLog, functionsHost, localSecrets } from "../test/support/stack";
import { cpuLine, cpuPerCall, cpuSnapshot } from "./machineCpu";
import { header, latencyLine, stats } from "./util";

const INVOKER = "bigquery-demo@demo-salts.iam.gserviceaccount.com";
const ROWS = 1000;
const WARM_USERS = 1000;
const WARM_BATCHES = 40;
/** Batches sent at once (BENCH_IN_FLIGHT; a deployed instance takes BIGQUERY_CONCURRENCY, 16, at once). */
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const NEW_BATCHES = 20;
/** Measured rounds of (a), served and library in turns. */
const ROUNDS = 5;

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const url = () => `http://${functionsHost()}/${PROJECT_ID}/us-central1/salts-pseudonymizeBatch`;

async function post(body: object, correlationId: string, to = url()): Promise<(string | null)[]> {
  const res = await fetch(to, {
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

/**
 * salts-pseudonymizeBatch in a fresh process of its own, served by Express as the functions framework
 * serves it on Cloud Run (bench/serveFunction.cjs), against the same emulators: its URL, and a stop.
 */
async function frameworkInstance(): Promise<{
  url: string;
  cpuMs: () => Promise<number>;
  profile: (step: "start" | "stop") => Promise<void>;
  stop: () => void;
}> {
  const env = functionEnv("salts.pseudonymizeBatch", {
    // The settings the functions emulator gives its workers (.env.local: KEY=VALUE lines, as .secret.local).
    ...readSecrets(path.join(ROOT, ".env.local")),
    ...localSecrets(),
    SECRET_MANAGER_EMULATOR_HOST: process.env.SECRET_MANAGER_EMULATOR_HOST,
    PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST,
    BIGQUERY_INVOKERS: INVOKER,
    BENCH_SERVE_PROF: process.env.BENCH_SERVE_PROF,
  });
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(ROOT, "bench/serveFunction.cjs"), path.join(ROOT, "lib/index.js")],
    { cwd: ROOT, env, stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.once("exit", (code) => reject(new Error(`bench/serveFunction.cjs exited (${code})`)));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  // Its log lines (one per batch) are not needed here: drain them.
  child.stdout!.resume();
  const base = `http://127.0.0.1:${port}`;
  const cpuMs = async () =>
    ((await (await fetch(`${base}/__bench/cpu`)).json()) as { cpu_ms: number }).cpu_ms;
  const profile = async (step: "start" | "stop") => {
    if (!process.env.BENCH_SERVE_PROF) return;
    const answer = (await (await fetch(`${base}/__bench/profile/${step}`, { method: "POST" })).json()) as {
      file?: string;
    };
    if (answer.file)
      console.log(
        `    CPU profile of the measured batches: ${answer.file} (the profiler's sampling adds to the CPU time below)`,
      );
  };
  return { url: `${base}/`, cpuMs, profile, stop: () => child.kill("SIGTERM") };
}

/**
 * The endpoint's handler (edge/remoteFunction.serveBatch) called in this process over the same warm batches,
 * IN_FLIGHT at once, with a request and response of its own (no HTTP, no Express, no JSON parse of the
 * body): its CPU time per batch for a BigQuery query's batches (a `caller`: answered as of the query's
 * pin, nothing stored per batch), then for the same batches without a caller, as a pipeline may send
 * them (each batch's replies kept for its retries: one Firestore write per batch). Services as the
 * stack's (same key, same salts).
 */
async function handlerInProcess(
  batches: string[][][],
  body: (calls: string[][], n: number) => object,
): Promise<{ pinned: number; kept: number }> {
  // Its log lines (one per batch) are built, as deployed, but not written to this bench's output.
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof write;
  try {
    return await measureHandler(batches, body);
  } finally {
    process.stdout.write = write;
  }
}

async function measureHandler(
  batches: string[][][],
  body: (calls: string[][], n: number) => object,
): Promise<{ pinned: number; kept: number }> {
  const rt = composeServices({
    config: testConfig({
      projectId: PROJECT_ID,
      secretManagerHost: process.env.SECRET_MANAGER_EMULATOR_HOST!,
      emulator: true,
      bigqueryInvokers: INVOKER,
    }),
  });
  const token = unsignedIdToken(INVOKER, url());
  let n = 5000;
  const one = (calls: string[][], query: boolean) =>
    new Promise<void>((resolve, reject) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      const sent = { ...body(calls, n++), ...(query ? {} : { caller: undefined }) };
      const req = { method: "POST", body: sent, get: (h: string) => headers[h.toLowerCase()] };
      const res = {
        status: (code: number) => (code === 200 ? res : (reject(new Error(`HTTP ${code}`)), res)),
        set: () => res,
        // The handler's own JSON text, not parsed here (the client's cost is not the handler's).
        end: (text: string) =>
          text.startsWith('{"replies":[') ? resolve() : reject(new Error("no replies")),
      };
      serveBatch(rt, req as never, res).catch(reject);
    });
  const cpuPerBatch = async (query: boolean) => {
    const cpu = process.cpuUsage();
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < batches.length) await one(batches[next++]!, query);
      }),
    );
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000 / batches.length;
  };
  // Its salt cache warmed, and the code paths compiled, before each measurement.
  await cpuPerBatch(true);
  const pinned = await cpuPerBatch(true);
  await cpuPerBatch(false);
  return { pinned, kept: await cpuPerBatch(false) };
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
 * (a) warm salts: rows/s through the endpoint (JSON and HTTP included, IN_FLIGHT batches at once, one
 *     BigQuery query) against the in-process library (pseudonymizeUserData per row) over the same rows:
 *     served as Cloud Run serves it (bench/serveFunction.cjs), ROUNDS rounds in turns with the library's,
 *     with that instance's CPU time per batch (BENCH_SERVE_PROF=<dir> writes a CPU profile of those
 *     batches there), and once through the functions emulator's proxy;
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
  // Warm-up: every user's salt created and cached by the endpoint (and its worker started); this first
  // batch pins the query, and the salts it reads after that serve its later batches from the cache.
  const warmAll = (n: number) =>
    post(
      body(
        users.map((u) => [u, "warm"]),
        n,
      ),
      `bench-${run}-warm${n}`,
    );
  await warmAll(-1);
  await post(body(batches[0]!, -2), `bench-${run}-warm2`);

  /** Every warm batch, IN_FLIGHT at once, request ids from `first`: rows/s, and batch 0's replies. */
  const warmRate = async (first: number, tag: string, to?: string) => {
    const start = performance.now();
    let next = 0;
    let replies0: (string | null)[] = [];
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < WARM_BATCHES) {
          const n = next++;
          const replies = await post(body(batches[n]!, first + n), `bench-${run}-${tag}${n}`, to);
          if (n === 0) replies0 = replies;
        }
      }),
    );
    return { rate: (WARM_BATCHES * ROWS) / ((performance.now() - start) / 1000), replies0 };
  };
  const viaEmulator = await warmRate(0, "w");
  const endpointRowsPerSecond = viaEmulator.rate;

  // The in-process library over the same rows (pseudonymizeUserData per row), its salts warm.
  const library = composeServices({
    config: testConfig({
      projectId: PROJECT_ID,
      secretManagerHost: process.env.SECRET_MANAGER_EMULATOR_HOST!,
    }),
  });
  for (const u of users) await library.pseudonymizer.pseudonymizeUserData(u, { value: "warm" }, ["value"]);
  const libraryRound = async () => {
    const t = performance.now();
    const cpu = process.cpuUsage();
    for (const calls of batches)
      for (const [u, v] of calls)
        await library.pseudonymizer.pseudonymizeUserData(u!, { value: v }, ["value"]);
    const used = process.cpuUsage(cpu);
    return {
      rate: (WARM_BATCHES * ROWS) / ((performance.now() - t) / 1000),
      cpuPerBatch: (used.user + used.system) / 1000 / WARM_BATCHES,
    };
  };

  // The same batches through an instance served as Cloud Run serves it, without the emulator's proxy:
  // a round of them to warm it (compiled code paths), then ROUNDS rounds, each followed by a round of the
  // library, so both see the machine as it is at that moment (2 shared cores: one round is a fraction of a
  // second, and either side alone can be twice as fast from one second to the next).
  const instance = await frameworkInstance();
  const served: { rate: number; cpuPerBatch: number }[] = [];
  const lib: { rate: number; cpuPerBatch: number }[] = [];
  let frameworkMachine = "";
  try {
    await post(body(batches[0]!, -3), `bench-${run}-fwarm`, instance.url);
    const warm = await warmRate(2000, "f", instance.url);
    if (JSON.stringify(warm.replies0) !== JSON.stringify(viaEmulator.replies0))
      throw new Error("the framework-served instance answered other replies than the emulator's");
    await libraryRound();
    await instance.profile("start");
    for (let r = 0; r < ROUNDS; r++) {
      const cpuBefore = await instance.cpuMs();
      const machineBefore = cpuSnapshot();
      const round = await warmRate(3000 + r * 100, `f${r}-`, instance.url);
      const machineAfter = cpuSnapshot();
      served.push({ rate: round.rate, cpuPerBatch: ((await instance.cpuMs()) - cpuBefore) / WARM_BATCHES });
      if (machineBefore && machineAfter)
        frameworkMachine = cpuLine(cpuPerCall(machineBefore, machineAfter, WARM_BATCHES));
      lib.push(await libraryRound());
    }
    await instance.profile("stop");
  } finally {
    instance.stop();
  }
  const ratios = served.map((x, r) => x.rate / lib[r]!.rate);
  const cpuRatios = served.map((x, r) => lib[r]!.cpuPerBatch / x.cpuPerBatch);
  const frameworkRowsPerSecond = median(served.map((x) => x.rate));
  const libraryRowsPerSecond = median(lib.map((x) => x.rate));
  const frameworkCpuPerBatch = median(served.map((x) => x.cpuPerBatch));
  const libraryCpuPerBatch = median(lib.map((x) => x.cpuPerBatch));
  const frameworkRatio = median(ratios);
  const inProcess = await handlerInProcess(batches, body);
  const ratio = endpointRowsPerSecond / libraryRowsPerSecond;
  const emulated = stats(
    roundTrips(Array.from({ length: WARM_BATCHES }, (_, n) => `bench-${run}-w${n}`)).map((r) => r.ms),
  );
  const rows = (n: number) => `${Math.round(n).toLocaleString("en")} rows/s`;
  const range = (xs: number[], digits = 2) =>
    `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
  console.log(
    `(a) warm salts, ${WARM_BATCHES} batches of ${ROWS} rows, ${IN_FLIGHT} in flight, ${ROUNDS} rounds each way in turns (medians, then the range over rounds); ` +
      `in-process library ${rows(libraryRowsPerSecond)} (${range(
        lib.map((x) => x.rate / 1000),
        0,
      )}k)`,
  );
  console.log(
    `    endpoint served as on Cloud Run (Express, HTTP and JSON, no emulator): ${rows(frameworkRowsPerSecond)}; ` +
      `against the library's round beside it ${frameworkRatio.toFixed(2)}x (rounds ${range(ratios)}; goal >= 0.5x)`,
  );
  console.log(
    `    CPU time per ${ROWS}-row batch: the served instance ${frameworkCpuPerBatch.toFixed(1)} ms (parse, checks, salts, pseudonyms, answer, log), ` +
      `the library ${libraryCpuPerBatch.toFixed(1)} ms: ${median(cpuRatios).toFixed(2)}x in CPU time (rounds ${range(cpuRatios)})`,
  );
  if (frameworkMachine)
    console.log(
      `    CPU per batch over every process on this machine while it served (last round): ${frameworkMachine}`,
    );
  console.log(
    `    the handler in this process (no HTTP, no Express), ${IN_FLIGHT} in flight: ${inProcess.pinned.toFixed(1)} ms of CPU per batch of a query (answered as of its pin); ` +
      `${inProcess.kept.toFixed(1)} ms per batch without a caller (a pipeline's: its replies kept per batch for retries, ${(inProcess.kept - inProcess.pinned).toFixed(1)} ms more)`,
  );
  console.log(
    `    endpoint through the functions emulator's proxy: ${rows(endpointRowsPerSecond)}: ${ratio.toFixed(2)}x; ` +
      `the function's own time per batch there (its log lines): p50 ${emulated.p50} ms, p95 ${emulated.p95} ms`,
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
      `one batched read, then creates in commits of 500 sent together; the query's pin known to the instance since its first batch, which read or created it first), in 2 sequential round trips (goal <= 3)`,
  );
  return {
    warm_endpoint_rows_per_s: endpointRowsPerSecond,
    warm_library_rows_per_s: libraryRowsPerSecond,
    warm_ratio: ratio,
    warm_framework_rows_per_s: frameworkRowsPerSecond,
    warm_framework_ratio: frameworkRatio,
    warm_framework_cpu_ms_per_batch: frameworkCpuPerBatch,
    warm_library_cpu_ms_per_batch: libraryCpuPerBatch,
    warm_handler_cpu_ms_per_batch: inProcess.pinned,
    warm_handler_kept_cpu_ms_per_batch: inProcess.kept,
    new_p50_ms: s.p50,
    new_p95_ms: s.p95,
    new_requests_max: Math.max(...requests),
  };
}
