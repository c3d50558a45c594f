import path from "node:path";
import {
  functionEnv,
  probeInstance,
  ROOT,
  type ProbeCall,
  type ProbeReport,
} from "../test/support/functionInstance";
import { createUser, localSecrets } from "../test/support/stack";
import { header } from "./util";

// What a cold instance costs: fresh processes, one per run, each loading a functions entry with the
// environment the functions emulator gives a worker (test/support/functionProbe.cjs), the service's
// built entry beside the minimal Firestore-backed callable of bench/noop-functions, alternately.

const BASELINE = "bench/noop-functions/index.js";

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;

interface Side {
  label: string;
  entry: string;
  target: string;
  call: ProbeCall;
  env: Record<string, string | undefined>;
}

async function probe(side: Side, withCall: boolean): Promise<ProbeReport> {
  const report = await probeInstance({
    entry: side.entry,
    env: functionEnv(side.target, side.env),
    ...(withCall ? { call: side.call } : {}),
  });
  if (withCall && report.error) {
    throw new Error(`${side.label}: first call failed: ${report.error.code} ${report.error.message}`);
  }
  return report;
}

/**
 * (a) `require` of the functions entry against the minimal callable's module, (b) a fresh process
 * until its first salts-rotateUser answer against the minimal callable's first one-document
 * transaction, with the secrets read through Secret Manager (as deployed) and as the runtime injects
 * them, (c) peak RSS of both: medians over BENCH_COLDSTART_RUNS (default 11) runs of each, the sides
 * alternating. BENCH_COLDSTART_ENTRY measures another build of the service (bench:compare's base).
 */
export async function benchColdStart(): Promise<Record<string, number>> {
  const runs = Number(process.env.BENCH_COLDSTART_RUNS ?? 11);
  if (!Number.isInteger(runs) || runs < 3) throw new Error("BENCH_COLDSTART_RUNS: an integer of at least 3");
  const entry = path.resolve(ROOT, process.env.BENCH_COLDSTART_ENTRY ?? "lib/index.js");
  header(
    `cold start: fresh processes (${runs} runs each, alternating), the functions entry (${path.relative(ROOT, entry)}) vs a minimal callable that loads firebase-functions and opens firebase-admin's Firestore (Firestore, Auth emulators, local Secret Manager server)`,
  );
  const admin = await createUser({ admin: true }, "coldstart");
  const secrets = localSecrets();
  const rotate = (label: string, env: Side["env"]): Side => ({
    label,
    entry,
    target: "salts.rotateUser",
    // The salt exists after the discarded first run: every measured call is a rotation.
    call: { kind: "callable", uid: admin.uid, data: { user_id: `coldstart-${admin.uid}`, force: true } },
    env: { ...secrets, ...env },
  });
  // As deployed: the key and the audit key read through Secret Manager's API (here its local server).
  const service = rotate("service", {
    SECRET_MANAGER_EMULATOR_HOST: process.env.SECRET_MANAGER_EMULATOR_HOST,
  });
  // The values the runtime injects for the bound secrets (the functions emulator's default).
  const injected = rotate("service, injected secrets", { PEPPER_SOURCE: "runtime" });
  // As in production, where Pub/Sub is there and the call hands its event to the drain: its first answer
  // also asks the Cloud Tasks queue for a salts-publishEvents task (firebase-admin/functions loads for it);
  // the other sides leave events in the outbox (no Pub/Sub in the probe: nothing to publish to).
  const published = rotate("service, Secret Manager, events to the drain", {
    CLOUD_TASKS_EMULATOR_HOST: process.env.CLOUD_TASKS_EMULATOR_HOST,
    SECRET_MANAGER_EMULATOR_HOST: process.env.SECRET_MANAGER_EMULATOR_HOST,
    PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST,
  });
  const withPubsub = Boolean(process.env.PUBSUB_EMULATOR_HOST);
  const baseline: Side = {
    label: "baseline",
    entry: path.join(ROOT, BASELINE),
    target: "benchTransaction",
    call: { kind: "callable", data: { id: admin.uid } },
    env: {},
  };
  // One discarded run of each: disk caches, the emulators' first requests, the salt's creation.
  const sides = [service, injected, ...(withPubsub ? [published] : []), baseline];
  for (const side of sides) await probe(side, true);

  const s = { load: [] as ProbeReport[], first: [] as ProbeReport[] };
  const b = { load: [] as ProbeReport[], first: [] as ProbeReport[] };
  const inj: ProbeReport[] = [];
  const pub: ProbeReport[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which side goes first, so a drift in the machine's load falls on all of them.
    const even = i % 2 === 0;
    for (const side of even ? [service, baseline] : [baseline, service])
      (side === service ? s : b).load.push(await probe(side, false));
    for (const side of even ? sides : [...sides].reverse()) {
      const report = await probe(side, true);
      (side === service ? s.first : side === baseline ? b.first : side === injected ? inj : pub).push(report);
    }
  }
  const req = (r: ProbeReport[]) => r.map((x) => x.require_ms);
  const reqCpu = (r: ProbeReport[]) => r.map((x) => x.require_cpu_ms);
  const answered = (r: ProbeReport[]) => r.map((x) => x.answered_ms!);
  const answeredCpu = (r: ProbeReport[]) => r.map((x) => x.answered_cpu_ms!);
  const rss = (r: ProbeReport[]) => r.map((x) => x.max_rss_mb);
  const ratio = (x: number[], y: number[]) => median(x) / median(y);
  const line = (name: string, xs: number[], unit: string) =>
    console.log(
      `${name.padEnd(66)} median ${median(xs).toFixed(0).padStart(5)} ${unit} (range ${range(xs)})`,
    );

  line("(a) require of the functions entry", req(s.load), "ms");
  line("(a) require of the minimal callable (functions + Firestore client)", req(b.load), "ms");
  const a = ratio(req(s.load), req(b.load));
  console.log(`(a) load ratio: ${a.toFixed(2)} (goal <= 1.2)`);
  line("    CPU time of that require, functions entry", reqCpu(s.load), "ms");
  line("    CPU time of that require, minimal callable", reqCpu(b.load), "ms");
  const aCpu = ratio(reqCpu(s.load), reqCpu(b.load));
  console.log(`    load ratio in CPU time: ${aCpu.toFixed(2)}`);
  console.log(
    `    modules and packages loaded: entry ${s.load[0]!.modules.length}, minimal callable ${b.load[0]!.modules.length}; after the first answer: ${s.first[0]!.modules.length} and ${b.first[0]!.modules.length}`,
  );
  line("(b) start to first salts-rotateUser answer, secrets via Secret Manager", answered(s.first), "ms");
  line("(b) the same, secrets injected by the runtime", answered(inj), "ms");
  line("(b) start to the minimal callable's first transaction", answered(b.first), "ms");
  const first = ratio(answered(s.first), answered(b.first));
  const firstInjected = ratio(answered(inj), answered(b.first));
  console.log(
    `(b) first-answer ratio: ${first.toFixed(2)} via Secret Manager, ${firstInjected.toFixed(2)} injected (goal <= 1.5)`,
  );
  if (withPubsub) {
    line(
      "    the same via Secret Manager, its event handed to the drain (a Cloud Tasks task, as deployed)",
      answered(pub),
      "ms",
    );
    console.log(`    ratio with the drain request: ${ratio(answered(pub), answered(b.first)).toFixed(2)}`);
  } else
    console.log(
      "    (no Pub/Sub emulator: the first answer that hands its event to the drain is not measured)",
    );
  line("    CPU time until that answer, via Secret Manager", answeredCpu(s.first), "ms");
  line("    CPU time until that answer, injected secrets", answeredCpu(inj), "ms");
  line("    CPU time until that answer, minimal callable", answeredCpu(b.first), "ms");
  const firstCpu = ratio(answeredCpu(s.first), answeredCpu(b.first));
  const firstInjectedCpu = ratio(answeredCpu(inj), answeredCpu(b.first));
  console.log(
    `    first-answer ratio in CPU time: ${firstCpu.toFixed(2)} via Secret Manager, ${firstInjectedCpu.toFixed(2)} injected`,
  );
  line("(c) peak RSS, functions entry loaded", rss(s.load), "MB");
  line("(c) peak RSS, minimal callable loaded", rss(b.load), "MB");
  line("(c) peak RSS after the first salts-rotateUser answer (Secret Manager)", rss(s.first), "MB");
  line("(c) peak RSS after the first salts-rotateUser answer (injected)", rss(inj), "MB");
  line("(c) peak RSS after the minimal callable's first transaction", rss(b.first), "MB");
  return {
    load_ms: median(req(s.load)),
    baseline_load_ms: median(req(b.load)),
    load_ratio: a,
    load_cpu_ratio: aCpu,
    first_answer_ms: median(answered(s.first)),
    first_answer_injected_ms: median(answered(inj)),
    ...(withPubsub
      ? {
          first_answer_published_ms: median(answered(pub)),
          first_answer_published_ratio: ratio(answered(pub), answered(b.first)),
        }
      : {}),
    baseline_first_answer_ms: median(answered(b.first)),
    first_answer_ratio: first,
    first_answer_injected_ratio: firstInjected,
    first_answer_cpu_ratio: firstCpu,
    first_answer_injected_cpu_ratio: firstInjectedCpu,
    rss_loaded_mb: median(rss(s.load)),
    baseline_rss_loaded_mb: median(rss(b.load)),
    rss_first_mb: median(rss(s.first)),
    rss_first_injected_mb: median(rss(inj)),
    baseline_rss_first_mb: median(rss(b.first)),
  };
}
