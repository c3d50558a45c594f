import { Counter, Gauge, Registry } from "prom-client";
import type { SaltKind } from "../domain/ids";
import { LATENCY_BUCKETS, type OperationAggregate } from "../ports/metricsStore";
import { LINK_PREVIOUS } from "./metrics";

// The scrape's rendering, apart from the recorder every function uses: only salts-metrics loads prom-client.

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(12))));
const esc = (v: string): string => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

/** Prometheus text exposition (0.0.4) of the contract's three metrics. */
export async function renderMetrics(
  aggregates: OperationAggregate[],
  due: Record<SaltKind, number>,
  keyVersions: Record<string, number> = {},
): Promise<string> {
  const registry = new Registry();
  const ops = new Counter({
    name: "salt_operations_total",
    help: "Salt operations by operation and result, summed over all instances.",
    labelNames: ["operation", "result"],
    registers: [registry],
  });
  const dueGauge = new Gauge({
    name: "salts_due_total",
    help: "Salts currently due for rotation, counted in storage at scrape time.",
    labelNames: ["kind"],
    registers: [registry],
  });
  const byKey = new Gauge({
    name: "salt_key_version_salts",
    help: "Salts with a ciphertext under each SALT_ENCRYPTION_KEY version, as the last integrity sweep counted them.",
    labelNames: ["version"],
    registers: [registry],
  });
  const links = new Counter({
    name: "salt_link_previous_total",
    help: "Requests for the pseudonym under a user's previous salt version (with_previous), by outcome.",
    labelNames: ["outcome"],
    registers: [registry],
  });
  for (const outcome of ["given", "none"]) links.inc({ outcome }, 0);
  for (const a of aggregates.filter((x) => x.operation === LINK_PREVIOUS))
    links.inc({ outcome: a.result === "success" ? "given" : "none" }, a.count);
  aggregates = aggregates.filter((x) => x.operation !== LINK_PREVIOUS);
  for (const [version, n] of Object.entries(keyVersions)) byKey.set({ version }, n);
  for (const a of aggregates) ops.inc({ operation: a.operation, result: a.result }, a.count);
  dueGauge.set({ kind: "user" }, due.user);
  dueGauge.set({ kind: "global" }, due.global);

  // prom-client histograms only take observations; totals from storage are written out directly.
  const name = "salt_operation_latency_seconds";
  const lines = [`# HELP ${name} Latency of salt operations in seconds.`, `# TYPE ${name} histogram`];
  for (const a of aggregates) {
    const labels = `operation="${esc(a.operation)}",result="${esc(a.result)}"`;
    LATENCY_BUCKETS.forEach((le, i) =>
      lines.push(`${name}_bucket{${labels},le="${le}"} ${fmt(a.buckets[i] ?? 0)}`),
    );
    lines.push(`${name}_bucket{${labels},le="+Inf"} ${fmt(a.count)}`);
    lines.push(`${name}_sum{${labels}} ${fmt(a.sumSeconds)}`);
    lines.push(`${name}_count{${labels}} ${fmt(a.count)}`);
  }
  return `${await registry.metrics()}${lines.join("\n")}\n`;
}

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
