import type { Services } from "./deps";

export interface StatusResponse {
  storage_type: "firestore" | "memory";
  degraded: boolean;
  degraded_reasons: string[];
  users: { total: number; due: number };
  globals: { total: number; due: number };
  rotation_intervals: { user_days: number; global_days: number };
  pepper: { version: number | null };
  encryption: { current_key_version: number | null; key_versions_in_use: number[] };
  generated_at: string;
}

/** Counts by aggregation queries: nothing is loaded, whatever the number of salts. */
export async function getStatus(
  deps: Pick<Services, "salts" | "pepper" | "keys" | "policy" | "clock">,
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
    const [users, globals] = await Promise.all([
      deps.salts.keyVersionsInUse("user", candidates),
      deps.salts.keyVersionsInUse("global", candidates),
    ]);
    inUse = [...new Set([...users, ...globals])].sort((a, b) => a - b);
  } catch (e) {
    reasons.push(`encryption key unavailable: ${(e as { code?: string }).code ?? "error"}`);
  }
  const policy = deps.policy.current();
  return {
    storage_type: deps.salts.storageType,
    degraded: reasons.length > 0,
    degraded_reasons: reasons,
    users: { total: usersTotal, due: usersDue },
    globals: { total: globalsTotal, due: globalsDue },
    rotation_intervals: { user_days: policy.userDays, global_days: policy.globalDays },
    pepper: { version: pepperVersion },
    encryption: { current_key_version: keyVersion, key_versions_in_use: inUse },
    generated_at: deps.clock().toISOString(),
  };
}
