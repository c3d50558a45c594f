import { logs } from "../observability/logs";
import { auditContext, type CallContext, type Services } from "./deps";

/** Re-reads the deployed params and any staged overrides, and puts the result in force, audited. */
export async function reloadConfig(
  deps: Pick<Services, "settings" | "policy">,
  ctx: CallContext,
): Promise<{ rotation_intervals: { user_days: number; global_days: number }; reloaded_at: string }> {
  const params = deps.policy.deployed();
  const { pending } = await deps.settings.readSettings();
  const intervals = {
    user_days: pending?.user_days ?? params.userDays,
    global_days: pending?.global_days ?? params.globalDays,
  };
  const active = await deps.settings.activateSettings(intervals, auditContext(ctx, "reload"));
  deps.policy.set({ ...params, userDays: active.user_days, globalDays: active.global_days });
  logs.configReloaded(active.user_days, active.global_days, ctx.correlationId);
  return { rotation_intervals: intervals, reloaded_at: active.reloaded_at.toISOString() };
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
