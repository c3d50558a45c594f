import { Timestamp, type DocumentReference, type Firestore } from "firebase-admin/firestore";
import { COLLECTIONS } from "../functions/adapters/firestore/schema";
import { encodeDocId } from "../functions/domain/ids";
import { benchBackend } from "./engine";
import { checkLedger, ledgerLine, type Ack } from "./ledger";
import { closedLoop, header, latencyLine, rate, sleep, stats, type ClosedLoopRun } from "./util";

const CLIENTS = 8;
const HOT = 4;
const SECONDS = 15;
// 6 ALREADY_EXISTS, 9 FAILED_PRECONDITION, 10 ABORTED: the commit changed nothing; read again.
const CONFLICT = new Set([6, 9, 10]);

/**
 * The baseline: the same three writes a rotation makes (update the salt with a
 * lastUpdateTime precondition, create the retired version, create an audit
 * entry) as one raw commit, retried after a short jittered pause on conflict.
 * No encryption, no parsing, no audit chain: what Firestore alone costs.
 */
async function rawRotate(db: Firestore, ref: DocumentReference): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const snap = await ref.get();
    const count = snap.get("rotation_count") as number;
    const now = Timestamp.now();
    const batch = db.batch();
    batch.update(
      ref,
      { rotation_count: count + 1, version: count + 2, last_rotated: now },
      { lastUpdateTime: snap.updateTime! },
    );
    batch.create(ref.collection("salt_versions").doc(String(count + 1)), { version: count + 1, at: now });
    batch.create(db.collection("bench_raw_audit").doc(), { target: ref.id, seq: count + 1, at: now });
    try {
      await batch.commit();
      return;
    } catch (e) {
      if (!CONFLICT.has((e as { code?: number }).code ?? -1)) throw e;
    }
    await sleep(Math.random() * Math.min(100, 2 ** attempt));
  }
}

function report(name: string, run: ClosedLoopRun): void {
  const s = stats(run.samples);
  console.log(`${latencyLine(name, s)}  max ${Math.max(...run.samples).toFixed(0)} ms`);
  const failed = Object.entries(run.failures);
  console.log(
    `  ${Math.round(rate(run)).toLocaleString("en")} ops/s, ${run.samples.length.toLocaleString("en")} acknowledged` +
      (failed.length ? `, failures: ${failed.map(([k, v]) => `${k} x${v}`).join(", ")}` : ", no failures"),
  );
}

/**
 * 8 clients rotating 4 hot salts for 15 s through the service's store (the
 * code salts-rotateUser runs), against the raw precondition-and-retry loop on
 * copies of the same documents, in the same run; then the stored ledger.
 */
export async function benchContention(db: Firestore): Promise<Record<string, number>> {
  header(
    `contention: ${CLIENTS} clients on ${HOT} hot salts for ${SECONDS} s, service vs raw precondition-and-retry (Firestore emulator)`,
  );
  const backend = benchBackend(db);
  const run = Date.now().toString(36);
  const hot = Array.from({ length: HOT }, (_, i) => `hot-${run}-${i}`);
  for (const id of hot) await backend.getOrCreate("user", id);
  // The raw loop works on byte-for-byte copies of the hot salt documents.
  const raw = await Promise.all(
    hot.map(async (id, i) => {
      const data = (await db.collection(COLLECTIONS.user).doc(encodeDocId(id)).get()).data()!;
      const ref = db.collection("bench_raw").doc(`hot-${run}-${i}`);
      await ref.set(data);
      return ref;
    }),
  );
  const pick = () => Math.floor(Math.random() * HOT);
  const audit = {
    actor: { uid: "bench", via: "cli" as const },
    operation: "rotate_user",
    correlation_id: "bench",
  };
  const acks = new Map<string, Ack[]>(hot.map((id) => [id, []]));
  const rotate = async (_client: number, n: number) => {
    const id = hot[pick()]!;
    const rotationId = `c-${run}-${n}`;
    const out = await backend.rotate("user", id, { rotationId, audit });
    if (out.status !== "rotated") throw new Error(`rotate answered ${out.status}`);
    acks.get(id)!.push({ rotationId, version: out.record.version });
  };

  const base = await closedLoop(CLIENTS, SECONDS, () => rawRotate(db, raw[pick()]!));
  const ours = await closedLoop(CLIENTS, SECONDS, rotate);
  report("raw commit + precondition + retry", base);
  report("SaltStore.rotate (salts-rotateUser's store)", ours);
  const ledger = await checkLedger(db, new Map(hot.map((id) => [id, 0])), acks);
  console.log(ledgerLine(ledger));
  const b = stats(base.samples);
  const o = stats(ours.samples);
  console.log(
    `throughput ratio ${(rate(ours) / rate(base)).toFixed(2)} (objective >= 0.5); p99 ratio ${(o.p99 / b.p99).toFixed(2)} (objective <= 2); p99 ${o.p99.toFixed(0)} ms (objective < 750 ms)`,
  );
  return {
    raw_ops_per_s: rate(base),
    raw_p50: b.p50,
    raw_p95: b.p95,
    raw_p99: b.p99,
    ops_per_s: rate(ours),
    p50: o.p50,
    p95: o.p95,
    p99: o.p99,
    lost: ledger.lost,
    duplicated: ledger.duplicated,
  };
}
