import { cpuLine, cpuPerCall, cpuSnapshot, totalOf } from "./machineCpu";
import { header, latencyLine, stats, timeEach } from "./util";
import { PROJECT_ID } from "../test/support/firestore";
import { call, createUser, functionsHost } from "../test/support/stack";

/**
 * salts-rotateUser over HTTP through the functions emulator vs a callable that does nothing, 1 then 8 in
 * flight: latency, and the CPU time each call costs every process on the machine (the event drain's share
 * of a phase's calls included: the phase's closing snapshot waits for its window's drain).
 */
export async function benchHttp(): Promise<Record<string, number>> {
  header("callable: salts-rotateUser over HTTP (functions emulator) vs a no-op callable");
  // The rate limit is per caller and minute: spread the calls over enough admins to stay under it.
  const admins = await Promise.all(Array.from({ length: 40 }, () => createUser({ admin: true }, "bench")));
  const N = 500;
  const run = Date.now().toString(36);
  const users = Array.from({ length: N }, (_, i) => `http-${run}-${i}`);
  const token = (i: number) => admins[i % admins.length]!.token;
  // Each user's salt exists before it is rotated; created with the same spread of callers.
  await timeEach(
    N,
    (i) => call("rotateUser", { user_id: users[i], force: true }, { token: token(i + 7) }),
    8,
  );
  await new Promise((r) => setTimeout(r, 61_000 - (Date.now() % 60_000)));
  // The baseline lives in its own codebase (bench/noop-functions), loaded only by the bench.
  const noop = async (i: number) => {
    const res = await fetch(`http://${functionsHost()}/${PROJECT_ID}/us-central1/benchNoop`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token(i)}` },
      body: JSON.stringify({ data: {} }),
    });
    if (!res.ok) throw new Error(`benchNoop failed: HTTP ${res.status}`);
  };
  const rotate = async (i: number) => {
    const r = await call("rotateUser", { user_id: users[i] }, { token: token(i) });
    if (!r.result) throw new Error(`rotateUser failed: ${r.error?.status} ${r.error?.message}`);
  };
  // Warm at 8 in flight: the functions emulator starts a worker per concurrent call (a cold start each),
  // which would otherwise land in the no-op's 8-in-flight phase (its p99 of seconds, its CPU).
  await timeEach(80, noop, 8);
  const out: Record<string, number> = {};
  /** Latencies of N calls, and their CPU per call on the machine (null without /proc). */
  const phase = async (one: (i: number) => Promise<void>, inFlight: number, settleMs: number) => {
    const before = cpuSnapshot();
    const samples = await timeEach(N, one, inFlight);
    if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
    const after = cpuSnapshot();
    return { s: stats(samples), cpu: before && after ? cpuPerCall(before, after, N) : null };
  };
  for (const inFlight of [1, 8]) {
    const { s: base, cpu: baseCpu } = await phase(noop, inFlight, 0);
    // A rotation's event is published by the drain task of its 5-s window, after the window's end.
    const { s: ours, cpu: oursCpu } = await phase(rotate, inFlight, 6_000);
    console.log(latencyLine(`no-op callable, ${inFlight} in flight`, base));
    console.log(latencyLine(`salts-rotateUser, ${inFlight} in flight`, ours));
    console.log(
      `p95 ${ours.p95.toFixed(1)} ms against the 250 ms objective; ${(ours.p95 - base.p95).toFixed(1)} ms over the no-op`,
    );
    if (baseCpu && oursCpu) {
      console.log(`    CPU per call, every process: salts-rotateUser ${cpuLine(oursCpu)}`);
      console.log(`    no-op ${cpuLine(baseCpu)}`);
      Object.assign(out, {
        [`noop_${inFlight}_cpu_ms`]: totalOf(baseCpu),
        [`rotate_${inFlight}_cpu_ms`]: totalOf(oursCpu),
      });
    } else console.log("    CPU per call: not measured (no /proc on this machine)");
    Object.assign(out, {
      [`noop_${inFlight}_p50`]: base.p50,
      [`noop_${inFlight}_p95`]: base.p95,
      [`noop_${inFlight}_p99`]: base.p99,
      [`rotate_${inFlight}_p50`]: ours.p50,
      [`rotate_${inFlight}_p95`]: ours.p95,
      [`rotate_${inFlight}_p99`]: ours.p99,
    });
    // Next phase in a fresh rate-limit window.
    if (inFlight === 1) await new Promise((r) => setTimeout(r, 61_000 - (Date.now() % 60_000)));
  }
  return out;
}
