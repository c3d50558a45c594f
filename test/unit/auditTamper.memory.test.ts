import { randomBytes } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { MemoryAnchorStore } from "../../functions/adapters/memory/memoryAnchor";
import { MemoryState } from "../../functions/adapters/memory/memoryState";
import { composeServices } from "../../functions/app/compose";
import type { AuditEntry } from "../../functions/domain/audit";
import { checkpointId } from "../../functions/domain/auditLedger";
import { saltLocation } from "../../functions/domain/rotation";
import { auditLog } from "../../functions/usecases/audit";
import { auditVerify } from "../../functions/usecases/auditVerify";
import type { Services } from "../../functions/usecases/deps";
import { eraseUser } from "../../functions/usecases/erase";
import { rotateSalt } from "../../functions/usecases/rotateSalt";
import { runSweep } from "../../functions/usecases/sweep";
import { testConfig } from "../support/runtimes";
import { ManualClock, TestSecret } from "../support/testDeps";

const ctx = { correlationId: "unit", actor: { uid: "admin-1", via: "cli" as const } };
const sweepCtx = { correlationId: "sweep", actor: { uid: "scheduler", via: "scheduler" as const } };

/** The memory backend with its state, anchor and audit key in reach, as a database writer (and an operator) would have them. */
function runtime() {
  const state = new MemoryState();
  const anchor = new MemoryAnchorStore();
  const auditKey = new TestSecret("AUDIT_KEY", randomBytes(32));
  const clock = new ManualClock(Date.now() - 60_000);
  const rt: Services = composeServices({
    config: testConfig({ backend: "memory" }),
    clock: clock.now,
    memoryState: state,
    anchor,
    secrets: {
      keys: new TestSecret("SALT_ENCRYPTION_KEY"),
      pepper: new TestSecret("PSEUDONYM_PEPPER", randomBytes(48)),
      auditKey,
    },
  });
  return { rt, state, anchor, auditKey, clock };
}

const problems = (out: { breaks: { problem: string }[] }) => out.breaks.map((b) => b.problem).join("\n");

describe("the audit trail against a database writer (memory backend)", () => {
  let env: ReturnType<typeof runtime>;
  let rt: Services;
  const entriesOf = (id: string) =>
    env.state.audit
      .filter((e) => e.target.id === id && e.integrity?.chain.startsWith("salt:"))
      .sort((a, b) => a.integrity!.seq - b.integrity!.seq);
  const verifyAll = async () => auditVerify(rt, { limit: 10_000 });
  const sweepBreaks = async () => (await runSweep(rt, sweepCtx)).audit_breaks;

  beforeEach(async () => {
    env = runtime();
    rt = env.rt;
    await rotateSalt(rt, ctx, "user", "alice", { force: true });
    for (let i = 0; i < 4; i++) {
      env.clock.advance(1000);
      await rotateSalt(rt, ctx, "user", "alice", { force: true, reason: `r${i}` });
    }
    await rotateSalt(rt, ctx, "global", "click", { force: true });
    expect((await runSweep(rt, sweepCtx)).checkpoint?.seq).toBe(1);
  });

  it("when nothing was touched, then everything verifies and the checkpoint is anchored", async () => {
    const all = await verifyAll();
    expect(all).toMatchObject({ intact: true, breaks: [] });
    expect(all.checked_entries).toBeGreaterThanOrEqual(7);
    expect(await auditVerify(rt, { limit: 100, target_id: "alice" })).toMatchObject({ intact: true });
    expect([...env.anchor.objects.keys()]).toEqual([1]);
    expect(await sweepBreaks()).toBe(0);
    const log = await auditLog(rt, { limit: 50, target_id: "alice" });
    expect(log.entries.every((e) => e.verified)).toBe(true);
  });

  it("when an entry without a link is forged, then both verifications report it and auditLog marks it unverified", async () => {
    const forged: AuditEntry = {
      id: "forged-erase",
      at: new Date().toISOString(),
      actor: { uid: "admin-1", via: "callable" },
      operation: "erase",
      target: { kind: "user", id: "alice" },
      result: "success",
      correlation_id: "x",
    };
    env.state.audit.push(forged);
    expect(problems(await verifyAll())).toMatch(/carries no chain link/);
    expect(problems(await auditVerify(rt, { limit: 100, target_id: "alice" }))).toMatch(
      /carries no chain link/,
    );
    const log = await auditLog(rt, { limit: 50, target_id: "alice" });
    expect(log.entries.find((e) => e.id === "forged-erase")?.verified).toBe(false);
    expect(await sweepBreaks()).toBeGreaterThanOrEqual(1);
  });

  it("when the tail is deleted and the head rewound to the entry before, then the head does not authenticate", async () => {
    const entries = entriesOf("alice");
    const last = entries.at(-1)!;
    env.state.audit.splice(env.state.audit.indexOf(last), 1);
    const salt = env.state.current.get(saltLocation("user", "alice"))!;
    const before = entries.at(-2)!.integrity!;
    salt.chain.head = { ...salt.chain.head!, seq: before.seq, mac: before.mac };
    expect(problems(await verifyAll())).toMatch(/head was changed, rewound or moved/);
    expect(problems(await auditVerify(rt, { limit: 100, target_id: "alice" }))).toMatch(/rewound/);
    expect(await sweepBreaks()).toBeGreaterThanOrEqual(1);
  });

  it("when a checkpoint page is edited or removed, or checkpoints are deleted, then the ledger reports it", async () => {
    const id = checkpointId(1);
    const page = env.state.checkpointPages.get(`${id}/0`)!;
    page.heads[0] = { ...page.heads[0]!, seq: page.heads[0]!.seq + 5 };
    expect(problems(await verifyAll())).toMatch(/page 0 was changed/);
    env.state.checkpointPages.delete(`${id}/0`);
    expect(problems(await verifyAll())).toMatch(/page 0 of checkpoint .* missing/);
    env.state.checkpoints.delete(id);
    expect(problems(await verifyAll())).toMatch(/checkpoint 1 is anchored in .* missing from the database/);
    expect(await sweepBreaks()).toBeGreaterThanOrEqual(1);
  });

  it("when a second checkpoint is made and the first deleted, then the gap is named", async () => {
    env.clock.advance(1000);
    expect((await runSweep(rt, sweepCtx)).checkpoint?.seq).toBe(2);
    env.state.checkpoints.delete(checkpointId(1));
    expect(problems(await verifyAll())).toMatch(/checkpoint 1 is missing \(removed\)/);
  });

  it("when AUDIT_KEY gets a new version, then checkpoints and entries made under v1 still verify and the ledger goes on under v2", async () => {
    env.auditKey.add(randomBytes(32));
    env.clock.advance(1000);
    await rotateSalt(rt, ctx, "user", "alice", { force: true });
    const report = await runSweep(rt, sweepCtx);
    expect(report.audit_breaks).toBe(0);
    expect(report.checkpoint?.seq).toBe(2);
    expect(env.state.checkpoints.get(checkpointId(1))?.key_version).toBe(1);
    expect(env.state.checkpoints.get(checkpointId(2))?.key_version).toBe(2);
    expect(await verifyAll()).toMatchObject({ intact: true });
  });

  it("when a copy of a salt taken before its erasure is put back, then it is refused and pseudonyms do not come back", async () => {
    const location = saltLocation("user", "alice");
    const copy = structuredClone(env.state.current.get(location)!);
    const versions = new Map(env.state.versions.get(location)!);
    const before = await rt.salts.get("user", "alice");
    await eraseUser(rt, ctx, "alice", "gdpr");
    env.state.current.set(location, copy);
    env.state.versions.set(location, versions);
    await expect(rt.salts.get("user", "alice")).rejects.toThrow(/erased incarnation/);
    await expect(rt.salts.getVersion("user", "alice", before!.record.version - 1)).rejects.toThrow(
      /erased incarnation/,
    );
    const report = await runSweep(rt, sweepCtx);
    expect(report.undecryptable).toBe(1);
    expect(report.audit_breaks).toBeGreaterThanOrEqual(1);
  });
});

describe("upgrading heads written before heads were authenticated (memory backend)", () => {
  it("when the ledger's first pass meets an unsealed head that is its chain's last entry, then it seals it; later ones are breaks", async () => {
    const { rt, state } = runtime();
    await rotateSalt(rt, ctx, "user", "bob", { force: true });
    await rt.audit.appendAudit({
      actor: ctx.actor,
      operation: "status",
      target: { kind: "system", id: "s" },
      result: "success",
      correlation_id: "c",
    });
    // As the previous release wrote them: {seq, mac} only.
    const salt = state.current.get(saltLocation("user", "bob"))!;
    salt.chain.head = { seq: salt.chain.head!.seq, mac: salt.chain.head!.mac };
    const [logChain, logHead] = [...state.chainHeads.entries()][0]!;
    state.chainHeads.set(logChain, { seq: logHead.seq, mac: logHead.mac });
    expect(problems(await auditVerify(rt, { limit: 1000 }))).toMatch(/not authenticated/);

    const first = await runSweep(rt, sweepCtx);
    expect(first.checkpoint?.seq).toBe(1);
    expect(first.audit_breaks).toBe(0);
    expect(salt.chain.head!.auth).toBeDefined();
    expect(state.chainHeads.get(logChain)!.auth).toBeDefined();
    expect(await auditVerify(rt, { limit: 1000 })).toMatchObject({ intact: true });

    // Once the ledger has begun, an unsealed head is a break, never sealed.
    salt.chain.head = { seq: salt.chain.head!.seq, mac: salt.chain.head!.mac };
    expect((await runSweep(rt, sweepCtx)).audit_breaks).toBeGreaterThanOrEqual(1);
    expect(salt.chain.head!.auth).toBeUndefined();
  });
});
