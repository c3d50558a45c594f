import { beforeAll, describe, expect, it } from "vitest";
import { idHash } from "../../functions/domain/crypto";
import { adminFirestore, clearFirestore, PROJECT_ID } from "../support/firestore";
import {
  call,
  createUser,
  emulatorLog,
  functionsHost,
  type CallResult,
  type TestUser,
} from "../support/stack";

// The functions emulator's settings (.env.local): ADMIN_RATE_LIMIT_PER_MINUTE, DENIED_AUDIT_PER_MINUTE.
const RATE_LIMIT = 60;
const DENIED_BUDGET = 10;
// edge/denied.ts SUPPRESSED_FLUSH_MS and observability/metrics.ts METRICS_FLUSH_MS.
const FLUSH_MS = 10_000;
const FLOOD = 260;
const IN_FLIGHT = 8;
const db = () => adminFirestore();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One rotateUser call as a client SDK makes it, waiting at most 90 s: the functions emulator never answers a
 * request whose worker failed to start (it happens on a loaded machine), and such a call reached no code.
 * The status of the answer, or null for none.
 */
async function rotateAs(token: string): Promise<string | null> {
  try {
    const res = await fetch(`http://${functionsHost()}/${PROJECT_ID}/us-central1/salts-rotateUser`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ data: { user_id: "flood-target" } }),
      signal: AbortSignal.timeout(90_000),
    });
    const body = (await res.json()) as { error?: { status: string } };
    return body.error?.status ?? "OK";
  } catch {
    return null;
  }
}

/** Runs `n` calls with at most `inFlight` at once; every answer. */
async function flood(
  n: number,
  inFlight: number,
  one: () => Promise<string | null>,
): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  let started = 0;
  const lane = async () => {
    while (started < n) {
      started++;
      out.push(await one());
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return out;
}

/** The test hooks' lines (test/support/emulatorHooks.cjs) logged since `from`: Auth lookups and applied commits. */
function hookLines(from: number) {
  const lines = emulatorLog()
    .slice(from)
    .split("\n")
    .map((l) => /(\{"test_hook".*\})\s*$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined)
    .map((l) => JSON.parse(l) as { test_hook: string; pid: number; uid?: string; paths?: string[] });
  return {
    workers: new Set(lines.map((l) => l.pid)).size,
    lookups: (uid: string) => lines.filter((l) => l.test_hook === "auth_lookup" && l.uid === uid).length,
    /** Applied commits that wrote `path` (a document path or a collection prefix). */
    commits: (match: (path: string) => boolean) =>
      lines.filter((l) => l.test_hook === "commit" && l.paths!.some(match)).length,
    allCommits: lines.filter((l) => l.test_hook === "commit").length,
  };
}

const deniedEntriesOf = async (uid: string) =>
  (
    await db().collection("salts_audit").where("actor.uid", "==", uid).where("result", "==", "denied").get()
  ).docs
    .map((d) => d.data())
    .sort((a, b) => a.at.toMillis() - b.at.toMillis());

const pendingOf = async (uid: string): Promise<number> =>
  Number(
    (
      await db()
        .collection("salts_rate_limits")
        .doc(idHash(`denied-audit:${uid}`))
        .get()
    ).get("suppressed") ?? 0,
  );

/**
 * One signed-in account with no role calls a function hundreds of times in a minute, many calls at once,
 * through the functions emulator (several worker processes: instances that share nothing but Firestore).
 */
describe("refusals under a flood (functions + auth + firestore emulators, over HTTP)", () => {
  let flooder: TestUser;
  let bystander: TestUser;

  beforeAll(async () => {
    await clearFirestore();
    const [warmer] = await Promise.all([
      createUser({}, "warmer"),
      createUser({}, "flooder").then((u) => (flooder = u)),
      createUser({}, "bystander").then((u) => (bystander = u)),
    ]);
    // Start the function's workers one more at a time (as instances scale out), not all at once.
    for (let k = 1; k <= IN_FLIGHT; k++)
      await Promise.all(Array.from({ length: k }, () => rotateAs(warmer.token)));
  }, 600_000);

  it("when one account floods a function, then another account's refusal is still audited, the flood's Auth lookups and writes stay bounded, and every suppressed refusal reaches the flooder's next entries", async () => {
    const logFrom = emulatorLog().length;
    const began = Date.now();
    let bystanderCall: Promise<CallResult> | null = null;
    let done = 0;
    const answers = await flood(FLOOD, IN_FLIGHT, async () => {
      // Halfway through, while the flood goes on, another account is refused once.
      if (++done === FLOOD / 2)
        bystanderCall = call("rotateUser", { user_id: "x" }, { token: bystander.token });
      return rotateAs(flooder.token);
    });
    const floodMs = Date.now() - began;
    const codes = answers.filter((c): c is string => c !== null);
    const refused = codes.length;
    expect(refused).toBeGreaterThanOrEqual(FLOOD * 0.9);
    expect(codes.every((c) => c === "PERMISSION_DENIED" || c === "RESOURCE_EXHAUSTED")).toBe(true);
    expect(codes.filter((c) => c === "RESOURCE_EXHAUSTED").length).toBeGreaterThan(0);
    expect((await bystanderCall!)?.error?.status).toBe("PERMISSION_DENIED");

    // The bystander's refusal is in the trail, on its own chain.
    const theirs = await deniedEntriesOf(bystander.uid);
    expect(theirs).toHaveLength(1);
    expect(theirs[0]).toMatchObject({ operation: "rotate_user", details: { code: "permission-denied" } });

    // The flooder spent its own budget only: DENIED_AUDIT_PER_MINUTE entries per minute of flood.
    const minutes = Math.ceil(floodMs / 60_000);
    const during = await deniedEntriesOf(flooder.uid);
    expect(during.length).toBeGreaterThanOrEqual(1);
    expect(during.length).toBeLessThanOrEqual(DENIED_BUDGET * minutes);

    // What the flood cost, counted by the test hooks in every worker.
    const cost = hookLines(logFrom);
    const flushes = cost.workers * (Math.ceil(floodMs / FLUSH_MS) + 1);
    // Auth is asked only about calls the shared limiter admitted: at most the rate limit per minute.
    expect(cost.lookups(flooder.uid)).toBeGreaterThan(0);
    expect(cost.lookups(flooder.uid)).toBeLessThanOrEqual(RATE_LIMIT * minutes);
    // The shared limiter writes only for admitted calls; refusals there only read.
    const limiterDoc = `salts_rate_limits/${idHash(`rotate_user:${flooder.uid}`)}`;
    expect(cost.commits((p) => p === limiterDoc)).toBeLessThanOrEqual(RATE_LIMIT * minutes);
    // The flooder's budget: a slot per entry, a pending count per instance per refusal window, batched flushes.
    const budgetDoc = `salts_rate_limits/${idHash(`denied-audit:${flooder.uid}`)}`;
    const budgetWrites = cost.commits((p) => p === budgetDoc);
    expect(budgetWrites).toBeLessThanOrEqual(DENIED_BUDGET * minutes + cost.workers * minutes + flushes);
    // The shared budget: only entries actually written (the flooder's and the bystander's) touched it.
    const sharedDoc = `salts_rate_limits/${idHash("denied-audit:*")}`;
    expect(cost.commits((p) => p === sharedDoc)).toBeLessThanOrEqual(during.length + 1);
    // Metrics: at most one write per instance per flush interval while only refusals are served.
    expect(cost.commits((p) => p.startsWith("salts_metrics/"))).toBeLessThanOrEqual(flushes);
    const bound =
      RATE_LIMIT * minutes + // limiter
      DENIED_BUDGET * minutes + // audit entries (each with its chain head, one commit)
      DENIED_BUDGET * minutes +
      cost.workers * minutes +
      flushes + // the flooder's budget
      DENIED_BUDGET * minutes +
      1 + // the shared budget
      1 + // the bystander's entry
      flushes; // metrics
    expect(cost.allCommits).toBeLessThanOrEqual(bound);
    expect(cost.allCommits).toBeLessThan(refused); // far fewer writes than calls
    const within = (prefix: string) => cost.commits((p) => p.startsWith(prefix));
    console.info(
      `flood: ${refused} refused calls in ${floodMs} ms over ${cost.workers} workers; ` +
        `${cost.lookups(flooder.uid)} Auth lookups; ${cost.allCommits} commits (bound ${bound}): ` +
        `limiter ${cost.commits((p) => p === limiterDoc)}, caller budget ${budgetWrites}, ` +
        `shared budget ${cost.commits((p) => p === sharedDoc)}, audit ${within("salts_audit/")}, ` +
        `metrics ${within("salts_metrics/")}; ${during.length} denied entries`,
    );

    // Once the flooder's budget has room again (a minute after its last entry), one call reaching each worker
    // hands over what that worker suppressed: the trail (entries + pending count) then holds every refusal.
    const lastEntry = during.at(-1)!.at.toMillis() as number;
    await sleep(Math.max(0, lastEntry + 61_000 - Date.now()));
    // What instances have handed over so far (the rest of the flood's last seconds is still in their memory).
    const pendingBefore = await pendingOf(flooder.uid);
    // As many at once as the flood had in flight, and a few more: every worker it used gets one.
    const wave = await flood(IN_FLIGHT + 4, IN_FLIGHT + 4, () => rotateAs(flooder.token));
    expect(wave.every((c) => c !== "OK")).toBe(true);
    const after = await deniedEntriesOf(flooder.uid);
    const next = after.slice(during.length);
    expect(next.length).toBeGreaterThanOrEqual(1);
    // The wave's first take of the budget, by whichever instance, carries every refusal handed over before
    // it (the pending count) into its entry; what an instance still held goes into that entry or later ones.
    // (Entries are ordered by their time, which two instances may set in the other order than their takes.)
    const carried = next.map((e) => Number(e.details.suppressed_before));
    expect(Math.max(...carried)).toBeGreaterThanOrEqual(pendingBefore);
    // Before the wave, nothing was counted twice either.
    const beforeWave = during.reduce((sum, e) => sum + 1 + Number(e.details.suppressed_before), 0);
    expect(beforeWave + pendingBefore).toBeLessThanOrEqual(FLOOD);
    const counted =
      after.reduce((sum, e) => sum + 1 + Number(e.details.suppressed_before), 0) +
      (await pendingOf(flooder.uid));
    expect(counted).toBeGreaterThanOrEqual(refused); // every refusal of the flood is accounted for
    expect(counted).toBeLessThanOrEqual(FLOOD + wave.length); // and none twice
  }, 600_000);
});
