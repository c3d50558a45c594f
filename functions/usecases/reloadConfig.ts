import { logs } from "../observability/logs";
import { auditContext, type CallContext, type Services } from "./deps";
import { startReschedule } from "./jobs/reschedule";
import type { JobDeps } from "./jobs/spec";

export interface ReloadResponse {
  rotation_intervals: { user_days: number; global_days: number };
  reloaded_at: string;
  /** The job that brings every stored due date in step with the intervals now in force. */
  reschedule: { job_id: string; total: number; rescheduled: number; queued: number; mode: string };
}

/**
 * Re-reads the deployed params and any staged overrides, puts the result in
 * force (audited), and reschedules every salt's stored due date to match.
 */
export async function reloadConfig(
  deps: JobDeps & Pick<Services, "settings">,
  ctx: CallContext,
): Promise<ReloadResponse> {
  const params = deps.policy.deployed();
  const { pending } = await deps.settings.readSettings();
  const intervals = {
    user_days: pending?.user_days ?? params.userDays,
    global_days: pending?.global_days ?? params.globalDays,
  };
  const active = await deps.settings.activateSettings(intervals, auditContext(ctx, "reload"));
  deps.policy.set({ ...params, userDays: active.user_days, globalDays: active.global_days });
  logs.configReloaded(active.user_days, active.global_days, ctx.correlationId);
  const reschedule = await startReschedule(deps, ctx);
  return { rotation_intervals: intervals, reloaded_at: active.reloaded_at.toISOString(), reschedule };
}

/** Stages interval overrides; they take effect only with the next reload. */
export async function stageIntervals(
  deps: Pick<Services, "settings">,
  ctx: CallContext,
  pending: { user_days?: number | undefined; global_days?: number | undefined },
): Promise<{ staged: typeof pending; note: string }> {
  await deps.settings.writePendingSettings(pending, auditContext(ctx, "config_stage"));
  return { staged: pending, note: "takes effect with the next reload (salts-reloadConfig)" };
}
