import { batchEndpointUrl, DDL_MAX_BATCHING_ROWS, invokerList, MAX_BATCH_CALLS } from "../domain/bigquery";
import { BATCH_OPERATION } from "./pseudonymizeBatch";
import type { Services } from "./deps";

/** A BigQuery job (or pipeline run) that used the endpoint, as its audit entry recorded it. */
export interface BigqueryJob {
  caller: string | null;
  session_user: string;
  invoker: string | null;
  mode: string | null;
  scope: string | null;
  /** When its first batch was answered. */
  first_seen: string;
  correlation_id: string;
}

const text = (v: unknown): string | null => (typeof v === "string" ? v : null);

/**
 * What an operator needs to connect BigQuery (salts-bigqueryInfo, the console's BigQuery page): the
 * endpoint's URL, who may call it, and the jobs that recently did (one audit entry per job and
 * session user, newest first).
 */
export async function bigqueryInfo(deps: Pick<Services, "config" | "audit">, input: { limit: number }) {
  const page = await deps.audit.listAudit({
    operation: BATCH_OPERATION,
    result: "success",
    limit: input.limit,
  });
  const jobs: BigqueryJob[] = page.items.map((e) => ({
    caller: text(e.details?.caller),
    session_user: e.actor.uid,
    invoker: text(e.details?.invoker),
    mode: text(e.details?.mode),
    scope: text(e.details?.scope),
    first_seen: e.at,
    correlation_id: e.correlation_id,
  }));
  return {
    // The deployed URL (what BigQuery calls); under the emulator the console shows the local one beside it.
    endpoint: batchEndpointUrl({
      projectId: deps.config.projectId ?? "(project)",
      region: deps.config.region ?? "us-central1",
    }),
    emulator: deps.config.emulator,
    invokers: invokerList(deps.config.bigqueryInvokers),
    max_batching_rows: DDL_MAX_BATCHING_ROWS,
    max_calls: MAX_BATCH_CALLS,
    recent_jobs: jobs,
  };
}
