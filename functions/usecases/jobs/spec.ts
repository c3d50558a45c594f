import type { SaltKind } from "../../domain/ids";
import type { JobItem, JobRecord, JobType } from "../../domain/jobs";
import type { Page } from "../../domain/paging";
import type { PageRequest } from "../../ports/saltStore";
import type { CallContext, Services } from "../deps";

/** What the engine and every job type may use. */
export type JobDeps = Pick<
  Services,
  | "config"
  | "clock"
  | "jobs"
  | "tasks"
  | "salts"
  | "audit"
  | "cache"
  | "policy"
  | "keys"
  | "requests"
  | "scopes"
  | "scopeCache"
>;

/** One item of work; `listed` is what an inline run's listing already read (saves a read). */
export interface JobUnit<L = unknown> {
  item: JobItem;
  listed?: L;
}

export type JobParams = Record<string, number>;

/** What happened to one unit: acted on, or nothing left to do (changed meanwhile, no longer needed). */
export type UnitOutcome = "done" | "skipped";

/**
 * A job type: which salts it covers and what it does to a chunk of them. The
 * engine owns everything else (planning, chunking, fan-out, retries, progress,
 * idempotence). `apply` must be idempotent per item: a retried chunk finds its
 * earlier work done and reports it as done again, never does it twice.
 */
export interface JobSpec<L = unknown> {
  readonly type: JobType;
  /** The audit operation of the job's own entries (start, plan). */
  readonly operation: string;
  /** Units per atomic chunk. */
  readonly chunkSize: number;
  /** Writes one item costs, for the ramp (domain/ramp). */
  readonly writesPerItem: number;
  /** What the job fixes when it starts, stored with it and given back to every step. */
  prepare?(deps: JobDeps): Promise<JobParams>;
  /** Items of one salt kind the job would act on now (planning, dry run). */
  count(deps: JobDeps, kind: SaltKind, params: JobParams): Promise<number>;
  /** Serializable items, for planning shards. */
  listItems(deps: JobDeps, kind: SaltKind, page: PageRequest, params: JobParams): Promise<Page<JobItem>>;
  /**
   * Up to `limit` units for an inline run, in the same order as listItems, read as the run asks for
   * them (bounded memory); the run ends the iteration early when it stops.
   */
  units(deps: JobDeps, kind: SaltKind, limit: number, params: JobParams): AsyncGenerator<JobUnit<L>>;
  /** One chunk, atomically where the store allows; outcomes in unit order. Storage outages throw. */
  apply(deps: JobDeps, ctx: CallContext, job: JobRecord, units: JobUnit<L>[]): Promise<UnitOutcome[]>;
}
