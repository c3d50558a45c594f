import type { ServiceRuntime } from "../app/runtime";
import { policyOf, readConfig } from "../config/runtime";
import type { RotationPolicy } from "../domain/policy";
import { logs } from "../observability/logs";
import { auditContext, type CallContext } from "./context";

/** Params, overridden by intervals an operator stored (`salts_meta/config`). */
export async function effectivePolicy(rt: ServiceRuntime): Promise<RotationPolicy> {
  const base = policyOf(readConfig());
  const stored = await rt.backend.readSettings();
  return {
    userDays: stored?.user_days ?? base.userDays,
    globalDays: stored?.global_days ?? base.globalDays,
  };
}

/** The only way intervals change in a running instance: an explicit, audited reload. */
export async function reloadConfig(
  rt: ServiceRuntime,
  ctx: CallContext,
): Promise<{ rotation_intervals: { user_days: number; global_days: number }; reloaded_at: string }> {
  const policy = await effectivePolicy(rt);
  rt.setPolicy(policy);
  await rt.backend.appendAudit({
    ...auditContext(ctx, "reload"),
    target: { kind: "config", id: "intervals" },
    result: "success",
    details: { user_days: policy.userDays, global_days: policy.globalDays },
  });
  logs.configReloaded(policy.userDays, policy.globalDays, ctx.correlationId);
  return {
    rotation_intervals: { user_days: policy.userDays, global_days: policy.globalDays },
    reloaded_at: rt.clock().toISOString(),
  };
}
