import type { Services } from "./deps";

export interface StatusResponse {
  storage_type: "firestore" | "memory";
  degraded: boolean;
  degraded_reasons: string[];
  users: { total: number; due: number };
  globals: { total: number; due: number };
  rotation_intervals: { user_days: number; global_days: number };
  pepper: { version: number | null };
  encryption: {
    current_key_version: number | null;
    key_versions_in_use: number[];
    /** When the sweep last passed over every salt (and upgraded any from an earlier release). */
    last_full_sweep: string | null;
  };
  generated_at: string;
}

/** Counts by aggregation queries: nothing is loaded, whatever the number of salts. */
export async function getStatus(
  deps: Pick<Services, "salts" | "pepper" | "keys" | "policy" | "clock" | "settings" | "scopes">,
): Promise<StatusResponse> {
  const [usersTotal, usersDue, globalsTotal, globalsDue] = await Promise.all([
    deps.salts.count("user"),
    deps.salts.countDue("user"),
    deps.salts.count("global"),
    deps.salts.countDue("global"),
  ]);
  const reasons: string[] = [];
  if (deps.salts.storageType === "memory")
    reasons.push("memory backend: salts are per instance and lost on restart");
  let pepperVersion: number | null = null;
  try {
    pepperVersion = (await deps.pepper.current()).version;
  } catch (e) {
    reasons.push(`pepper unavailable: ${(e as { code?: string }).code ?? "error"}`);
  }
  let keyVersion: number | null = null;
  let inUse: number[] = [];
  try {
    keyVersion = (await deps.keys.current()).version;
    const candidates = Array.from({ length: keyVersion }, (_, i) => i + 1);
    const [users, globals, scopes] = await Promise.all([
      deps.salts.keyVersionsInUse("user", candidates),
      deps.salts.keyVersionsInUse("global", candidates),
      deps.scopes.keyVersionsInUse(candidates),
    ]);
    inUse = [...new Set([...users, ...globals, ...scopes])].sort((a, b) => a - b);
  } catch (e) {
    reasons.push(`encryption key unavailable: ${(e as { code?: string }).code ?? "error"}`);
  }
  // Salts written by an earlier release are counted only once a sweep has passed over them (and upgraded them).
  const sweep = await deps.settings.readSweepState().catch(() => ({}) as Record<string, unknown>);
  const lastPass = typeof sweep.pass_completed_at === "string" ? sweep.pass_completed_at : null;
  const policy = deps.policy.current();
  return {
    storage_type: deps.salts.storageType,
    degraded: reasons.length > 0,
    degraded_reasons: reasons,
    users: { total: usersTotal, due: usersDue },
    globals: { total: globalsTotal, due: globalsDue },
    rotation_intervals: { user_days: policy.userDays, global_days: policy.globalDays },
    pepper: { version: pepperVersion },
    encryption: { current_key_version: keyVersion, key_versions_in_use: inUse, last_full_sweep: lastPass },
    generated_at: deps.clock().toISOString(),
  };
}
