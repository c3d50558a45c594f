import { randomBytes, randomUUID } from "node:crypto";
import type { Firestore } from "firebase-admin/firestore";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobRecord } from "../../functions/domain/jobs";
import type { Services } from "../../functions/usecases/deps";
import { adminFirestore, firestoreHost } from "../support/firestore";
import { firestoreRuntime, firestoreVia } from "../support/runtimes";
import { TcpProxy } from "../support/tcpProxy";

const KEY = randomBytes(32).toString("base64");
const actor = { uid: "ops", via: "callable" as const };
const db = () => adminFirestore();

/** Waits until `check` holds (the client may still be retrying in the background when the call answers). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("the expected state never appeared");
    await new Promise((r) => setTimeout(r, 200));
  }
}

const job = (id: string): JobRecord => {
  const now = new Date();
  return {
    job_id: id,
    type: "rotation",
    state: "running",
    kind: "all",
    dry_run: false,
    limit: null,
    mode: "fanout",
    due: { users: 0, globals: 0 },
    total: 0,
    started_at: now,
    finished_at: null,
    heartbeat_at: now,
    shards_total: null,
    created_by: actor,
    correlation_id: "uncertain",
    error: null,
    params: {},
  };
};

/**
 * Transactions whose commit reached Firestore but whose answer was lost must answer deadline-exceeded
 * (outcome unknown: retry with the same request_id), not unavailable (which promises nothing happened).
 * A test-owned proxy carries the client's traffic; it starts losing answers the moment the transaction's
 * function returns, i.e. just as the client sends the commit.
 */
describe("transactions with an unknown outcome (Firestore emulator behind a test-owned proxy)", () => {
  const proxy = new TcpProxy(process.env.FIRESTORE_EMULATOR_HOST ?? "127.0.0.1:8080");
  let rt: Services;
  let client: Firestore;

  beforeAll(async () => {
    firestoreHost();
    await proxy.start();
    client = firestoreVia(proxy.host);
    const run = client.runTransaction.bind(client);
    // The commit is sent as soon as the transaction's function resolves: lose every answer from then on.
    client.runTransaction = ((fn: Parameters<Firestore["runTransaction"]>[0], options?: object) =>
      run(async (tx) => {
        const out = await fn(tx);
        if (losing) proxy.loseAnswers();
        return out;
      }, options)) as Firestore["runTransaction"];
    rt = firestoreRuntime({ key: KEY, firestore: client, config: { firestoreTimeoutMs: 3000 } });
  });
  afterAll(() => proxy.stop());

  let losing = false;
  async function withLostCommit<T>(call: () => Promise<T>): Promise<unknown> {
    // The client reconnected since an earlier test cut its connection (gRPC backs off between attempts,
    // seconds after a few): the operation's reads then start at once, and only its commit's answer is lost.
    await client.collection("salts_meta").doc("uncertain-probe").get();
    losing = true;
    try {
      await call();
      return null;
    } catch (e) {
      return e;
    } finally {
      losing = false;
      proxy.restore();
    }
  }

  it("when staging intervals loses its commit answer, then deadline-exceeded, and the staged values were indeed stored", async () => {
    const days = 40 + Math.floor(Math.random() * 100);
    const error = await withLostCommit(() =>
      rt.settings.writePendingSettings(
        { user_days: days },
        { actor, correlation_id: "stage-lost", operation: "stage_config" },
      ),
    );
    expect(error).toMatchObject({ code: "deadline-exceeded" });
    await eventually(
      async () => (await db().collection("salts_meta").doc("config").get()).get("pending.user_days") === days,
    );
  });

  it("when starting a job with a request_id loses its commit answer, then deadline-exceeded, and the job and its request were stored", async () => {
    const id = `job-${randomUUID()}`;
    const key = `req-${randomUUID()}`;
    const error = await withLostCommit(() =>
      rt.jobs.create(job(id), { key, fingerprint: "f", answer: { job_id: id } }),
    );
    expect(error).toMatchObject({ code: "deadline-exceeded" });
    await eventually(async () => (await db().collection("salts_jobs").doc(id).get()).exists);
    expect((await db().collection("salts_requests").doc(key).get()).get("fingerprint")).toBe("f");
  });

  it("when claiming a request id loses its commit answer, then deadline-exceeded, and the claim was stored", async () => {
    const key = `claim-${randomUUID()}`;
    const error = await withLostCommit(() => rt.requests.claim(key, "fp", { started: true }));
    expect(error).toMatchObject({ code: "deadline-exceeded" });
    await eventually(async () => (await db().collection("salts_requests").doc(key).get()).exists);
  });

  it("when an audit entry's commit answer is lost, then deadline-exceeded, and the entry was written", async () => {
    const target = `audit-${randomUUID()}`;
    const error = await withLostCommit(() =>
      rt.audit.appendAudit({
        actor,
        operation: "audit_probe",
        target: { kind: "system", id: target },
        result: "success",
        correlation_id: "audit-lost",
      }),
    );
    expect(error).toMatchObject({ code: "deadline-exceeded" });
    await eventually(
      async () => !(await db().collection("salts_audit").where("target.id", "==", target).get()).empty,
    );
  });

  it("when Firestore is cut off before anything is sent, then unavailable, and nothing was stored", async () => {
    const key = `cut-${randomUUID()}`;
    proxy.cut();
    try {
      await expect(rt.requests.claim(key, "fp", { started: true })).rejects.toMatchObject({
        code: "unavailable",
      });
    } finally {
      proxy.restore();
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect((await db().collection("salts_requests").doc(key).get()).exists).toBe(false);
  });
});
