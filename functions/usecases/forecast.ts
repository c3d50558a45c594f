import { kindsOf, type JobScope } from "../domain/jobs";
import type { SaltKind } from "../domain/ids";
import type { Services } from "./deps";

const DAY_MS = 24 * 60 * 60 * 1000;
// Count queries in flight at once: enough to be quick, few enough not to flood storage.
const PARALLEL = 24;

export interface ForecastResponse {
  buckets: { date: string; users: number; globals: number }[];
  overdue: { users: number; globals: number };
  generated_at: string;
}

/** Midnight (UTC) of the day `t` falls on. */
const utcDay = (t: number): number => Math.floor(t / DAY_MS) * DAY_MS;

/**
 * How many salts come due on each of the next `days` days (UTC): bucket 0 is
 * the rest of today (from now), bucket i the whole day i after today; `overdue`
 * are those due already (next_rotation at or before now, as salts-status counts
 * them). Counted by aggregation over the stored due dates: nothing is loaded.
 */
export async function forecast(
  deps: Pick<Services, "salts" | "clock">,
  input: { days: number; kind: JobScope },
): Promise<ForecastResponse> {
  const now = deps.clock().getTime();
  const kinds = kindsOf(input.kind);
  const bounds = Array.from({ length: input.days }, (_, i) => {
    const start = i === 0 ? now + 1 : utcDay(now) + i * DAY_MS;
    return {
      date: new Date(utcDay(now) + i * DAY_MS).toISOString().slice(0, 10),
      start,
      end: utcDay(now) + (i + 1) * DAY_MS,
    };
  });
  const tasks: (() => Promise<void>)[] = [];
  const counts = new Map<string, number>();
  const count = (kind: SaltKind, key: string, from: number, to: number) =>
    tasks.push(async () => {
      counts.set(`${kind}|${key}`, await deps.salts.countDueBetween(kind, new Date(from), new Date(to)));
    });
  for (const kind of kinds) {
    count(kind, "overdue", 0, now + 1);
    for (const b of bounds) count(kind, b.date, b.start, b.end);
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, tasks.length) }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
  const of = (kind: SaltKind, key: string) => counts.get(`${kind}|${key}`) ?? 0;
  return {
    buckets: bounds.map((b) => ({ date: b.date, users: of("user", b.date), globals: of("global", b.date) })),
    overdue: { users: of("user", "overdue"), globals: of("global", "overdue") },
    generated_at: new Date(now).toISOString(),
  };
}
