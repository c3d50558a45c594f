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
