import type { AuditResult } from "../domain/audit";
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10] as const;

/** Aggregated observations of one (operation, result) pair, summed over every instance. */
export interface OperationAggregate {
  operation: string;
  result: AuditResult;
  count: number;
  sumSeconds: number;
  /** Cumulative count per bucket upper bound, aligned with LATENCY_BUCKETS. */
  buckets: number[];
}

/** Where instances add their counts so one scrape sees the whole service. */
export interface MetricsStore {
  add(deltas: OperationAggregate[]): Promise<void>;
  read(): Promise<OperationAggregate[]>;
}

/** The identity of one series: one (operation, result) pair. */
export const seriesKey = (a: Pick<OperationAggregate, "operation" | "result">): string =>
  `${a.operation}\u0000${a.result}`;

export function emptyAggregate(operation: string, result: AuditResult): OperationAggregate {
  return { operation, result, count: 0, sumSeconds: 0, buckets: LATENCY_BUCKETS.map(() => 0) };
}

export function observe(agg: OperationAggregate, seconds: number): void {
  agg.count++;
  agg.sumSeconds += seconds;
  LATENCY_BUCKETS.forEach((le, i) => {
    if (seconds <= le) agg.buckets[i] = (agg.buckets[i] ?? 0) + 1;
  });
}

export function merge(into: OperationAggregate, add: OperationAggregate): void {
  into.count += add.count;
  into.sumSeconds += add.sumSeconds;
  add.buckets.forEach((n, i) => {
    into.buckets[i] = (into.buckets[i] ?? 0) + n;
  });
}
