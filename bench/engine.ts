import { randomBytes } from "node:crypto";
import { FieldValue, type Firestore } from "firebase-admin/firestore";
import { FirestoreSaltStore } from "../functions/adapters/firestore/firestoreSaltStore";
import { runtimeSecrets } from "../test/support/runtimes";
import { DEFAULT_POLICY } from "../functions/domain/policy";
import { Pseudonymizer } from "../functions/engine/pseudonymizer";
import { SaltCache } from "../functions/engine/saltCache";
import type { SaltStore } from "../functions/ports/saltStore";
import { header, latencyLine, stats, timeEach } from "./util";

export function benchBackend(db: Firestore): FirestoreSaltStore {
  const secrets = runtimeSecrets({ key: randomBytes(32).toString("hex") });
  return new FirestoreSaltStore(db, {
    clock: () => new Date(),
    policy: () => DEFAULT_POLICY,
    retentionDays: () => 30,
    keys: secrets.keys,
    auditKey: secrets.auditKey,
  });
}

const audit = {
  actor: { uid: "bench", via: "cli" as const },
  operation: "rotate_user",
  correlation_id: "bench",
};

/** Sequential rotate of existing salts vs a raw read-and-update transaction on one document. */
export async function benchRotate(db: Firestore): Promise<Record<string, number>> {
  header("engine: sequential rotate vs raw firebase-admin transaction (Firestore emulator)");
  const backend = benchBackend(db);
  const N = 500;
  const users = Array.from({ length: 100 }, (_, i) => `bench-rot-${i}`);
  for (const u of users) await backend.getOrCreate("user", u);
  const raw = Array.from({ length: 100 }, (_, i) => db.collection("bench_raw").doc(`d${i}`));
  for (const r of raw) await r.set({ n: 0 });
  const rawTx = (i: number) =>
    db.runTransaction(async (tx) => {
      const ref = raw[i % raw.length]!;
      const snap = await tx.get(ref);
      tx.update(ref, { n: (snap.get("n") as number) + 1, at: FieldValue.serverTimestamp() });
    });
  const rotate = (i: number) =>
    backend.rotate("user", users[i % users.length]!, { rotationId: `b${i}`, audit });
  // Warm both paths, then interleave rounds so drift in the emulator hits both alike.
  await timeEach(50, rawTx);
  await timeEach(50, rotate);
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < 5; round++) {
    a.push(...(await timeEach(N / 5, rawTx)));
    b.push(...(await timeEach(N / 5, rotate)));
  }
  const base = stats(a);
  const ours = stats(b);
  console.log(latencyLine("raw transaction (read + update one doc)", base));
  console.log(latencyLine("SaltStore.rotate (existing user salt)", ours));
  console.log(`ratio at p95: ${(ours.p95 / base.p95).toFixed(2)} (objective: <= 2)`);
  return {
    raw_p50: base.p50,
    raw_p95: base.p95,
    raw_p99: base.p99,
    rotate_p50: ours.p50,
    rotate_p95: ours.p95,
    rotate_p99: ours.p99,
  };
}

/** 100,000 analytics events over 10,000 users: events/s and storage reads vs distinct salts. */
export async function benchAnalyticsBatch(db: Firestore): Promise<Record<string, number>> {
  header("library: 100,000 analytics events over 10,000 users (Firestore emulator)");
  const backend = benchBackend(db);
  let reads = 0;
  const counting = new Proxy(backend as SaltStore, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "get" || prop === "getOrCreate" || prop === "getVersion") reads++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const cache = new SaltCache(counting, { ttlMs: 3_600_000 });
  const p = new Pseudonymizer(cache, runtimeSecrets({ key: randomBytes(32).toString("hex") }).pepper);
  const EVENTS = 100_000;
  const USERS = 10_000;
  const TYPES = [
    "page_view",
    "click",
    "signup",
    "purchase",
    "search",
    "share",
    "login",
    "logout",
    "scroll",
    "error",
  ];
  const run = Date.now().toString(36);
  const t = performance.now();
  const inFlight = 64;
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < EVENTS) {
        const i = next++;
        const user = `ev-${run}-${i % USERS}`;
        const event = {
          event_type: TYPES[i % TYPES.length]!,
          user_id: user,
          email: `${user}@example.com`,
          ts: i,
        };
        await p.pseudonymizeAnalyticsData(event);
        await p.pseudonymizeUserData(user, { email: event.email }, ["email"]);
      }
    }),
  );
  const seconds = (performance.now() - t) / 1000;
  const distinct = USERS + TYPES.length;
  console.log(
    `events: ${EVENTS.toLocaleString("en")} in ${seconds.toFixed(1)} s = ${Math.round(EVENTS / seconds).toLocaleString("en")} events/s (each: one global + one user pseudonymization)`,
  );
  console.log(
    `storage reads: ${reads.toLocaleString("en")}; distinct salts: ${distinct.toLocaleString("en")} (${reads === distinct ? "equal" : "NOT EQUAL"})`,
  );
  return { events_per_s: EVENTS / seconds, reads, distinct };
}
