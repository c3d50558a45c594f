import type { Services } from "./deps";

export interface StatusResponse {
  storage_type: "firestore" | "memory";
  degraded: boolean;
  degraded_reasons: string[];
  users: { total: number; due: number };
  globals: { total: number; due: number };
  rotation_intervals: { user_days: number; global_days: number };
  pepper: { version: number | null };
  generated_at: string;
}

/** Counts by aggregation queries: nothing is loaded, whatever the number of salts. */
export async function getStatus(
  deps: Pick<Services, "salts" | "pepper" | "policy" | "clock">,
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
  const policy = deps.policy.current();
  return {
    storage_type: deps.salts.storageType,
    degraded: reasons.length > 0,
    degraded_reasons: reasons,
    users: { total: usersTotal, due: usersDue },
    globals: { total: globalsTotal, due: globalsDue },
    rotation_intervals: { user_days: policy.userDays, global_days: policy.globalDays },
    pepper: { version: pepperVersion },
    generated_at: deps.clock().toISOString(),
  };
}
