import { defaultConfig, rampOf, type ServiceConfig } from "../../functions/config/config";
import { queueLimits, WRITES_PER_ROTATION } from "../../functions/domain/ramp";
import type { JobDeps } from "../../functions/usecases/jobs/spec";
import { runTask } from "../../functions/usecases/jobs/fanout";
import { JOB_SPECS } from "../../functions/usecases/jobs/kinds";
import { startRotateDue } from "../../functions/usecases/jobs/rotation";
import type { CallContext } from "../../functions/usecases/deps";
import { rangeFamilies } from "./indexRanges";
import { Ledger, type Totals } from "./ledger";
import { SimQueue, type QueueLimits } from "./queue";
import { rotationWrites } from "./rotationWrites";
import { DEFAULT_LATENCY, SimJobStore, SimSaltStore, type Latency } from "./stores";
import { VirtualTime } from "./virtualTime";

export interface ModelInput {
  users: number;
  globals?: number;
  /** Settings as deployed; unset ones are the service's defaults (`defaultConfig`). */
  config?: Partial<ServiceConfig>;
  latency?: Partial<Latency>;
}

export interface ModelReport {
  config: ServiceConfig;
  latency: Latency;
  due: number;
  rotated: number;
  mode: string;
  /** Virtual seconds from the call to the job marked done. */
  seconds: number;
  /** The queue settings the deployed task function gets (`queueLimits`, as in triggers/workers.ts). */
  queue: QueueLimits;
  /** Writes one rotation commits, read off the real adapter, by collection group. */
  writesPerRotation: Record<string, number>;
  tasks: { enqueued: number; dispatched: number; peakDispatchesPerSecond: number };
  peakWritesPerSecond: Record<string, number>;
  /** The busiest document: its peak writes in one second, and per second over its busiest minute. */
  peakWritesPerDocument: { doc: string; peak: number; sustained: number };
  indexRanges: { index: string; ranges: string; peak: number }[];
  totals: Totals;
}

const CTX: CallContext = { correlationId: "model", actor: { uid: "scheduler", via: "scheduler" } };

/**
 * Runs the service's own batch-rotation code (startRotateDue, the plan steps
 * and shards of jobs/fanout, the pacer on the ramp, chunks) on virtual time,
 * against storage and a task queue that charge what Firestore and Cloud Tasks
 * would: `users` + `globals` due salts, everything else as configured.
 */
export async function simulate(input: ModelInput): Promise<ModelReport> {
  const config: ServiceConfig = { ...defaultConfig(), ...input.config };
  const latency: Latency = { ...DEFAULT_LATENCY, ...input.latency };
  const writes = await rotationWrites();
  const template = new Map<string, number>();
  for (const w of writes) template.set(w.group, (template.get(w.group) ?? 0) + 1);
  const vt = new VirtualTime(Date.UTC(2027, 0, 4));
  const ledger = new Ledger(vt, rangeFamilies(writes, "sim-user"));
  const queue = queueLimits(rampOf(config), config.shardSize, WRITES_PER_ROTATION);
  const jobs = new SimJobStore(vt, ledger, latency);
  const salts = new SimSaltStore(vt, ledger, latency, template, input.users, input.globals ?? 0);
  const deps = {
    config,
    clock: () => new Date(vt.now()),
    jobs,
    salts,
    cache: { invalidate: () => undefined },
    audit: {
      appendAudit: async () => {
        ledger.read(1);
        ledger.writeDoc("salts_audit", "entry");
        await vt.delay(latency.commitMs);
      },
    },
  } as unknown as JobDeps;
  const tasks = new SimQueue(vt, ledger, queue, latency.dispatchMs, (task) =>
    runTask(deps, CTX, JOB_SPECS, task, false),
  );
  Object.assign(deps, { tasks });

  const out = await vt.run(async () => {
    const started = await startRotateDue(deps, CTX, { kind: "all", dry_run: false });
    await tasks.drained();
    if (tasks.failure) throw tasks.failure;
    const job = await jobs.get(started.job_id);
    if (job?.state !== "done") throw new Error(`the modelled job ended ${job?.state}`);
    return { started, job };
  });
  const documents = [...ledger.documents.peak].sort((a, b) => b[1] - a[1])[0] ?? ["-", 0];
  return {
    config,
    latency,
    due: input.users + (input.globals ?? 0),
    rotated: ledger.totals.rotations,
    mode: out.started.mode,
    seconds: (out.job.finished_at!.getTime() - out.job.started_at.getTime()) / 1000,
    queue,
    writesPerRotation: Object.fromEntries(template),
    tasks: {
      enqueued: tasks.enqueued,
      dispatched: ledger.totals.dispatches,
      peakDispatchesPerSecond: ledger.dispatchRate.peak.get("queue") ?? 0,
    },
    peakWritesPerSecond: Object.fromEntries(ledger.collections.peak),
    peakWritesPerDocument: {
      doc: documents[0],
      peak: documents[1],
      sustained: (ledger.documentsPerMinute.peak.get(documents[0]) ?? 0) / 60,
    },
    indexRanges: ledger.rangePeaks(),
    totals: ledger.totals,
  };
}
