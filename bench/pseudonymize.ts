import { createHmac, randomBytes } from "node:crypto";
import { MemorySaltStore } from "../functions/adapters/memory/memorySaltStore";
import { runtimeSecrets } from "../test/support/runtimes";
import { DEFAULT_POLICY } from "../functions/domain/policy";
import { Pseudonymizer } from "../functions/engine/pseudonymizer";
import { SaltCache } from "../functions/engine/saltCache";
import { MemoryScopeStore } from "../functions/adapters/memory/memoryScopeStore";
import { ScopeCache } from "../functions/engine/scopeCache";
import { ScopedPseudonymizer } from "../functions/engine/scopedPseudonymizer";
import { header } from "./util";

const N = 40_000;
const ROUNDS = 15;
const USERS = 1000;
const TYPES = ["page_view", "click", "signup", "purchase", "search"];

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

/**
 * Pseudonymizing with warm salts (CPU only) against plain HMAC-SHA-256 over the same values in the
 * same process: short rounds, interleaved, timed in this process's CPU time (other processes on the
 * shared cores do not count); the ratio is the median of the per-round ratios, with their range.
 */
export async function benchPseudonymizeCpu(): Promise<Record<string, number>> {
  header("pseudonymization, salts cached (CPU)");
  const secrets = runtimeSecrets({ key: randomBytes(32).toString("hex"), pepper: "p".repeat(48) });
  const backend = new MemorySaltStore({
    clock: () => new Date(),
    policy: () => DEFAULT_POLICY,
    retentionDays: () => 30,
    keys: secrets.keys,
    auditKey: secrets.auditKey,
  });
  const cache = new SaltCache(backend, { ttlMs: 3_600_000 });
  const p = new Pseudonymizer(cache, secrets.pepper);
  // A scope, warm: its key and every user's scoped key are derived in the warm-up below.
  const scopeDeps = {
    clock: () => new Date(),
    policy: () => DEFAULT_POLICY,
    retentionDays: () => 30,
    keys: secrets.keys,
    auditKey: secrets.auditKey,
  };
  const scopeStore = new MemoryScopeStore(scopeDeps);
  await scopeStore.putScope(
    { scope_id: "partner-a", description: "", rotation_days: 30, consumers: [] },
    { actor: { uid: "bench", via: "cli" }, correlation_id: "bench", operation: "put_scope" },
  );
  const scoped = new ScopedPseudonymizer(
    p,
    cache,
    secrets.pepper,
    new ScopeCache(scopeStore, { ttlMs: 3_600_000 }),
    {
      clock: () => new Date(),
      linkWindowHours: () => 48,
    },
  );
  const inScope = { scope: "partner-a" };
  const values = Array.from({ length: N }, (_, i) => `user${i}@example.com`);
  const userIds = Array.from({ length: USERS }, (_, i) => `u${i}`);
  const fields = ["email"];
  for (const u of userIds) {
    await p.pseudonymizeUserData(u, { email: "warm" }, fields);
    await scoped.pseudonymizeUserData(u, { email: "warm" }, fields, inScope);
  }
  for (const t of TYPES) await p.pseudonymizeAnalyticsData({ event_type: t, user_id: userIds[0]! });
  const hmacKey = randomBytes(32);

  const variants: Record<string, () => Promise<number> | number> = {
    raw: () => {
      let x = 0;
      for (let i = 0; i < N; i++) x ^= createHmac("sha256", hmacKey).update(values[i]!).digest()[0]!;
      return x;
    },
    record: async () => {
      for (let i = 0; i < N; i++)
        await p.pseudonymizeUserData(userIds[i % USERS]!, { email: values[i] }, fields);
      return 0;
    },
    // The same records in a scope (pairwise pseudonyms): after the first call per user, one tag per value too.
    scoped: async () => {
      for (let i = 0; i < N; i++)
        await scoped.pseudonymizeUserData(userIds[i % USERS]!, { email: values[i] }, fields, inScope);
      return 0;
    },
    values: async () => {
      // N values in all: 40 per call, one call per user.
      const per = N / USERS;
      for (let u = 0; u < USERS; u++)
        await p.pseudonymizeValues(userIds[u]!, "email", values.slice(u * per, (u + 1) * per));
      return 0;
    },
    // An analytics event: the event type's global salt, bound to its subject (the user's shred secret).
    events: async () => {
      for (let i = 0; i < N; i++) {
        await p.pseudonymizeAnalyticsData({
          event_type: TYPES[i % TYPES.length]!,
          user_id: userIds[i % USERS]!,
          ts: i,
        });
      }
      return 0;
    },
  };
  const ms: Record<string, number[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, run] of Object.entries(variants)) {
      const t = process.cpuUsage();
      await run();
      const used = process.cpuUsage(t);
      (ms[name] ??= []).push((used.user + used.system) / 1000);
    }
  }
  const rate = (name: string) => (N / median(ms[name]!)) * 1000;
  const ratios = ms.record!.map((t, i) => ms.raw![i]! / t).sort((a, b) => a - b);
  const out = {
    raw_per_s: rate("raw"),
    record_api_per_s: rate("record"),
    values_api_per_s: rate("values"),
    scoped_record_per_s: rate("scoped"),
    events_per_s: rate("events"),
    record_ratio: median(ratios),
    record_ratio_low: ratios[0]!,
    record_ratio_high: ratios.at(-1)!,
  };
  const line = (label: string, v: number) =>
    `${label.padEnd(52)} ${Math.round(v).toLocaleString("en").padStart(9)}/s`;
  console.log(line(`plain createHmac("sha256")`, out.raw_per_s));
  console.log(
    `${line("pseudonymizeUserData, one record per call", out.record_api_per_s)}   ratio ${out.record_ratio.toFixed(2)} (rounds ${out.record_ratio_low.toFixed(2)}-${out.record_ratio_high.toFixed(2)}; objective >= 0.9)`,
  );
  console.log(
    `${line("pseudonymizeUserData in a scope, one record per call", out.scoped_record_per_s)}   ratio ${(out.scoped_record_per_s / out.raw_per_s).toFixed(2)} (${(out.scoped_record_per_s / out.record_api_per_s).toFixed(2)} of unscoped)`,
  );
  console.log(
    `${line("pseudonymizeValues, 40 values per call", out.values_api_per_s)}   ratio ${(out.values_api_per_s / out.raw_per_s).toFixed(2)}`,
  );
  console.log(
    `${line("pseudonymizeAnalyticsData, one event per call (events/s)", out.events_per_s)}   (each: a global salt bound to the user's shred secret)`,
  );
  return out;
}
