import type { ServiceRuntime } from "../app/runtime";
import { policyOf, readConfig } from "../config/runtime";
import type { RotationPolicy } from "../domain/policy";
import { logs } from "../observability/logs";
import { auditContext, type CallContext } from "./context";

const lastRead = new WeakMap<ServiceRuntime, number>();

/**
 * The intervals in force: those the last explicit reload activated for every
 * instance, or the deployed params when no reload ever happened. Instances
 * re-read the active record every SETTINGS_REFRESH_SECONDS, so a reload reaches
 * all of them; nothing but a reload changes what is active.
 */
export async function refreshPolicy(rt: ServiceRuntime, force = false): Promise<RotationPolicy> {
  const last = lastRead.get(rt);
  const now = Date.now();
  if (!force && last !== undefined && now - last < rt.config.settingsRefreshSeconds * 1000)
    return rt.policy();
  const { active } = await rt.backend.readSettings();
  const policy = active
    ? { userDays: active.user_days, globalDays: active.global_days }
    : policyOf(rt.config);
  rt.setPolicy(policy);
  lastRead.set(rt, now);
  return policy;
}

/** Re-reads the deployed params and any staged overrides, and puts the result in force, audited. */
export async function reloadConfig(
  rt: ServiceRuntime,
  ctx: CallContext,
): Promise<{ rotation_intervals: { user_days: number; global_days: number }; reloaded_at: string }> {
  const params = policyOf(readConfig());
  const { pending } = await rt.backend.readSettings();
  const intervals = {
    user_days: pending?.user_days ?? params.userDays,
    global_days: pending?.global_days ?? params.globalDays,
  };
  const active = await rt.backend.activateSettings(intervals, auditContext(ctx, "reload"));
  rt.setPolicy({ userDays: active.user_days, globalDays: active.global_days });
  lastRead.set(rt, Date.now());
  logs.configReloaded(active.user_days, active.global_days, ctx.correlationId);
  return { rotation_intervals: intervals, reloaded_at: active.reloaded_at.toISOString() };
}
