import { performance } from "node:perf_hooks";

export interface LatencyStats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

export function stats(samplesMs: number[]): LatencyStats {
  const s = [...samplesMs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  return { n: s.length, p50: q(50), p95: q(95), p99: q(99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

export async function timeEach(
  n: number,
  fn: (i: number) => Promise<unknown>,
  inFlight = 1,
): Promise<number[]> {
  const samples: number[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await fn(i);
        samples[i] = performance.now() - t;
      }
    }),
  );
  return samples;
}

export const fmt = (ms: number): string => `${ms.toFixed(2)} ms`;

export function latencyLine(name: string, s: LatencyStats): string {
  return `${name.padEnd(44)} n=${String(s.n).padEnd(5)} p50 ${fmt(s.p50).padStart(10)}  p95 ${fmt(s.p95).padStart(10)}  p99 ${fmt(s.p99).padStart(10)}`;
}

export function header(title: string): void {
  console.log(`\n## ${title}\n`);
}

export interface ClosedLoopRun {
  /** Latency of every acknowledged operation, in ms. */
  samples: number[];
  /** Failures by error code (or message). */
  failures: Record<string, number>;
  seconds: number;
}

/**
 * `clients` closed loops calling `op(client, n)` back to back for `seconds`:
 * the load of a fixed number of callers, each waiting for its answer.
 */
export async function closedLoop(
  clients: number,
  seconds: number,
  op: (client: number, n: number) => Promise<unknown>,
): Promise<ClosedLoopRun> {
  const samples: number[] = [];
  const failures: Record<string, number> = {};
  const start = performance.now();
  const until = start + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < until) {
        const t = performance.now();
        try {
          await op(client, n++);
          samples.push(performance.now() - t);
        } catch (e) {
          const code = String((e as { code?: unknown }).code ?? (e as Error).message).slice(0, 60);
          failures[code] = (failures[code] ?? 0) + 1;
        }
      }
    }),
  );
  return { samples, failures, seconds: (performance.now() - start) / 1000 };
}

export const rate = (r: ClosedLoopRun): number => r.samples.length / r.seconds;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
