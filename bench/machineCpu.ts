import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time of every process on this machine (Linux /proc), by what it is: the functions emulator's
 * workers (by the function they serve), the Firestore and Pub/Sub emulators, firebase-tools (the
 * functions emulator's proxy, Auth and Cloud Tasks), this bench, and the rest. On shared cores that a
 * load saturates, latency follows what each call costs all of them, and this is steadier than a p95.
 */
export type CpuSnapshot = Map<number, { group: string; ms: number }>;

const TICK_MS = 10; // USER_HZ is 100 on Linux

function groupOf(pid: string, cmd: string): string {
  if (Number(pid) === process.pid) return "bench client";
  if (/java/.test(cmd) && /firestore/i.test(cmd)) return "Firestore emulator";
  if (/java/.test(cmd) && /pubsub/i.test(cmd)) return "Pub/Sub emulator";
  if (/functionsEmulatorRuntime/.test(cmd)) {
    const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    const target = env.find((e) => e.startsWith("FUNCTION_TARGET="))?.slice("FUNCTION_TARGET=".length);
    return `worker ${target ?? "?"}`;
  }
  if (/serveFunction\.cjs/.test(cmd)) return "served instance";
  if (/firebase/.test(cmd)) return "firebase-tools";
  return "other";
}

/** Null where /proc is not there (the figures are then left out). */
export function cpuSnapshot(): CpuSnapshot | null {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const out: CpuSnapshot = new Map();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      out.set(Number(pid), { group: groupOf(pid, cmd), ms });
    } catch {
      // Gone between the listing and the read, or not ours to read.
    }
  }
  return out;
}

/** CPU ms per call between two snapshots, by group (processes that ended in between are not counted). */
export function cpuPerCall(before: CpuSnapshot, after: CpuSnapshot, calls: number): Record<string, number> {
  const groups: Record<string, number> = {};
  for (const [pid, now] of after) {
    const then = before.get(pid)?.ms ?? 0;
    groups[now.group] = (groups[now.group] ?? 0) + (now.ms - then) / calls;
  }
  return groups;
}

export const totalOf = (groups: Record<string, number>): number =>
  Object.values(groups).reduce((a, b) => a + b, 0);

/** "63.1 ms (worker salts.rotateUser 29.5, Firestore emulator 18.9, ...)", largest first. */
export function cpuLine(groups: Record<string, number>): string {
  const parts = Object.entries(groups)
    .filter(([, ms]) => ms >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([g, ms]) => `${g} ${ms.toFixed(1)}`);
  return `${totalOf(groups).toFixed(1)} ms (${parts.join(", ")})`;
}
