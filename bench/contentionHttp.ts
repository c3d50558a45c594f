import type { Firestore } from "firebase-admin/firestore";
import { call, createUser } from "../test/support/stack";
import { checkLedger, ledgerLine, type Ack } from "./ledger";
import { closedLoop, header, latencyLine, rate, stats, timeEach } from "./util";

const CLIENTS = 8;
const SECONDS = 15;

interface RotateAnswer {
  rotation_id: string;
  salt: { version: number; rotation_count: number };
}

// The rate limit counts per caller and minute: each phase has its own callers, enough to stay under it.
const admins = (n: number) =>
  Promise.all(Array.from({ length: n }, () => createUser({ admin: true }, "bench")));

/** 8 clients calling salts-rotateUser over HTTP for 15 s on `ids`; returns the run and what was acknowledged. */
async function phase(ids: string[], tokens: string[], label: string) {
  const acks = new Map<string, Ack[]>(ids.map((id) => [id, []]));
  const run = await closedLoop(CLIENTS, SECONDS, async (_client, n) => {
    const id = ids[Math.floor(Math.random() * ids.length)]!;
    const r = await call<RotateAnswer>("rotateUser", { user_id: id }, { token: tokens[n % tokens.length] });
    if (!r.result) throw Object.assign(new Error(r.error?.message ?? "no answer"), { code: r.error?.status });
    acks.get(id)!.push({ rotationId: r.result.rotation_id, version: r.result.salt.version });
  });
  const s = stats(run.samples);
  console.log(`${latencyLine(label, s)}  max ${Math.max(...run.samples).toFixed(0)} ms`);
  const failed = Object.entries(run.failures).map(([k, v]) => `${k} x${v}`);
  console.log(
    `  ${Math.round(rate(run))} calls/s; ${run.samples.length} acknowledged; ${failed.length ? `failures: ${failed.join(", ")}` : "no failures"}`,
  );
  return { run, s, acks };
}

/**
 * The same load over HTTP through the functions emulator (token check, Auth
 * lookup, shared rate limit, validation, rotation, metrics): 8 clients on 4
 * hot users, then 8 clients on 400 users, each for 15 s, with the ledger.
 */
export async function benchContentionHttp(db: Firestore): Promise<Record<string, number>> {
  header(`contention over HTTP: ${CLIENTS} clients, ${SECONDS} s, salts-rotateUser (functions emulator)`);
  const run = Date.now().toString(36);
  const hot = Array.from({ length: 4 }, (_, i) => `hhot-${run}-${i}`);
  const many = Array.from({ length: 400 }, (_, i) => `hmany-${run}-${i}`);
  const [creators, hotCallers, manyCallers] = await Promise.all([admins(20), admins(40), admins(40)]);
  const all = [...hot, ...many];
  await timeEach(
    all.length,
    async (i) => {
      const token = creators[i % creators.length]!.token;
      const r = await call("rotateUser", { user_id: all[i], force: true }, { token });
      if (!r.result) throw new Error(`creating ${all[i]}: ${r.error?.status}`);
    },
    8,
  );
  const tokens = (users: { token: string }[]) => users.map((u) => u.token);
  const h = await phase(hot, tokens(hotCallers), "4 hot users");
  const m = await phase(many, tokens(manyCallers), "400 users");
  const ledger = await checkLedger(db, new Map(all.map((id) => [id, 0])), new Map([...h.acks, ...m.acks]));
  console.log(ledgerLine(ledger));
  console.log(
    `hot: p95 ${h.s.p95.toFixed(0)} ms, p99 ${h.s.p99.toFixed(0)} ms (objective p95 < 250, p99 < 750); 400 users: p95 ${m.s.p95.toFixed(0)} ms, p99 ${m.s.p99.toFixed(0)} ms`,
  );
  return {
    hot_calls_per_s: rate(h.run),
    hot_p50: h.s.p50,
    hot_p95: h.s.p95,
    hot_p99: h.s.p99,
    many_calls_per_s: rate(m.run),
    many_p50: m.s.p50,
    many_p95: m.s.p95,
    many_p99: m.s.p99,
    lost: ledger.lost,
    duplicated: ledger.duplicated,
  };
}
