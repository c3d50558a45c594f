// Test-only decoration of the functions' services, loaded by the functions emulator when the test
// command sets EMULATOR_TEST_HOOKS (app/instance.ts honours it under the emulator only; nothing here
// is deployed). When the document `salts_meta/fault_injection` asks for it, the next shard task dies
// after `throw_after` rotations, as an instance losing storage mid-shard would. Auth lookups and applied
// Firestore commits are logged (one JSON line each) for tests that count what calls cost. The services' clock
// runs `offset_ms` of the document `salts_meta/test_clock` ahead of real time (read before the shared rate
// limiter and again before the use case runs): tests drive time with it instead of waiting (setTestClock).
const path = require("node:path");
const { getFirestore } = require("firebase-admin/firestore");
const { unavailable } = require(path.resolve(__dirname, "../../lib/domain/errors.js"));

async function takeFault(db) {
  const ref = db.collection("salts_meta").doc("fault_injection");
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const left = Number(snap.get("shard_failures_left") ?? 0);
    if (!snap.exists || left <= 0) return null;
    tx.update(ref, { shard_failures_left: left - 1 });
    return Number(snap.get("throw_after") ?? 0);
  });
}

// Counting, for the flood test: every Auth lookup and every applied Firestore commit (batch or transaction)
// of this worker is one line in the functions' log, so a test can count what a burst of calls cost.
const say = (line) => console.log(JSON.stringify({ test_hook: line.kind, pid: process.pid, ...line }));
let counting = false;
function countCommits() {
  if (counting) return;
  counting = true;
  const { WriteBatch } = require("@google-cloud/firestore");
  const commit = WriteBatch.prototype._commit;
  WriteBatch.prototype._commit = async function countedCommit(...args) {
    const paths = this._ops.map((op) => op.docPath);
    const out = await commit.apply(this, args);
    say({ kind: "commit", paths });
    return out;
  };
}

let offsetMs = 0;

/** The clock every adapter and cache of the instance is composed with. */
exports.options = { clock: () => new Date(Date.now() + offsetMs) };

// A test that cuts Firestore (the fault proxy) must see the call's own outage, not a hang in this hook: the
// clock is read with a short bound, and the last offset read stays in force when storage does not answer.
async function readClock(db) {
  const read = db
    .collection("salts_meta")
    .doc("test_clock")
    .get()
    .then((snap) => {
      offsetMs = Number(snap.get("offset_ms") ?? 0);
    });
  read.catch(() => undefined);
  await Promise.race([read, new Promise((resolve) => setTimeout(resolve, 1000).unref())]).catch(
    () => undefined,
  );
}

/** `target` with the test clock read before each call of its method `name` (other members unchanged). */
function readingClockBefore(target, name, db) {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop);
      if (typeof value !== "function") return value;
      if (prop !== name) return value.bind(t);
      return async (...args) => {
        await readClock(db);
        return value.apply(t, args);
      };
    },
  });
}

exports.decorate = (services) => {
  const db = getFirestore();
  countCommits();
  const identity = {
    lookup: async (uid) => {
      say({ kind: "auth_lookup", uid });
      return services.identity.lookup(uid);
    },
  };
  // Every call refreshes the policy before its use case runs: the clock's offset is read there too.
  const policy = readingClockBefore(services.policy, "refresh", db);
  // Rotations this worker may still commit before the injected fault; null when none is armed.
  // Each emulator worker serves one request at a time, so the budget belongs to the shard it runs.
  let budget = null;
  const jobs = new Proxy(services.jobs, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop !== "getShard") return typeof value === "function" ? value.bind(target) : value;
      return async (...args) => {
        budget = await takeFault(db);
        return value.apply(target, args);
      };
    },
  });
  const failing = (method) => async (items) => {
    if (budget === null) return method(items);
    const allowed = Math.max(0, budget);
    if (allowed >= items.length) {
      budget -= items.length;
      return method(items);
    }
    if (allowed > 0)
      await services.salts.rotateMany(
        items
          .slice(0, allowed)
          .map((i) =>
            i.listed ? { kind: i.listed.record.kind, id: i.listed.record.id, request: i.request } : i,
          ),
      );
    budget = null;
    throw unavailable("injected fault: storage lost mid-shard");
  };
  const salts = new Proxy(services.salts, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      const bound = value.bind(target);
      return prop === "rotateMany" || prop === "rotateListed" ? failing(bound) : bound;
    },
  });
  // A refused call never reaches the policy refresh: the clock is read before the shared rate limiter too,
  // the first thing a call writes, so a worker's refusals (and their budget) never run on an offset an
  // earlier test left there while another worker runs on the current one.
  const rateLimiter = readingClockBefore(services.rateLimiter, "hit", db);
  return { ...services, jobs, salts, identity, policy, rateLimiter };
};
