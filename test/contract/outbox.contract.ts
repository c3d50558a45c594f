import { beforeEach, describe, expect, it } from "vitest";
import { PUBLISHED_RETENTION_MS } from "../../functions/domain/events";
import type { JobRecord } from "../../functions/domain/jobs";
import type { EventOutbox, PendingEvent } from "../../functions/ports/events";
import type { JobStore } from "../../functions/ports/jobStore";
import type { AuditContext, SaltStore } from "../../functions/ports/saltStore";
import type { TestState } from "../support/testDeps";

/** What the outbox contract needs from a backend: its stores (sharing one storage) and what their commits told. */
export interface OutboxHarness {
  salts: SaltStore;
  jobs: JobStore;
  outbox: EventOutbox;
  state: TestState;
  /** Keys the stores reported after their commits, in order. */
  committed: string[];
  /** When a published event's record expires (Firestore's TTL field), read from storage; null if unpublished. */
  published(outboxId: string): Promise<{ expiresAt: Date } | null>;
  reset(): Promise<void>;
}

const audit: AuditContext = {
  actor: { uid: "admin-1", via: "cli" },
  operation: "rotate_user",
  correlation_id: "corr-outbox",
};

const rotation = (rotationId: string, extra: Record<string, unknown> = {}) => ({
  rotationId,
  audit,
  ...extra,
});

function job(state: JobRecord["state"], at: Date, over: Partial<JobRecord> = {}): JobRecord {
  return {
    job_id: `job_${at.getTime().toString(36)}_${"a".repeat(12)}`,
    type: "rotation",
    state,
    kind: "user",
    dry_run: state !== "running",
    limit: null,
    mode: "inline",
    due: { users: 0, globals: 0 },
    total: 0,
    started_at: at,
    finished_at: state === "running" ? null : at,
    heartbeat_at: at,
    shards_total: state === "running" ? 1 : 0,
    created_by: { uid: "ops", via: "cli" },
    correlation_id: "corr-job",
    error: null,
    params: {},
    ...over,
  };
}

const messages = (events: PendingEvent[]) => events.map((e) => e.message);

export function outboxContract(name: string, makeHarness: () => Promise<OutboxHarness>): void {
  describe(`event outbox contract: ${name}`, () => {
    let h: OutboxHarness;
    const pending = () => h.outbox.pending(1000);

    beforeEach(async () => {
      h = await makeHarness();
      await h.reset();
    });

    it("when a salt is created on first use, then its salt.created event is pending, committed with it", async () => {
      await h.salts.getOrCreate("user", "alice");
      await h.salts.getOrCreate("user", "alice");
      const [e, ...rest] = await pending();
      expect(rest).toEqual([]);
      expect(e).toMatchObject({ key: "user:alice", orderingKey: "user:alice" });
      expect(e!.message).toEqual({
        event_id: e!.outboxId,
        type: "salt.created",
        at: h.state.clock.now().toISOString(),
        kind: "user",
        id: "alice",
        version: 1,
        correlation_id: "library",
      });
      expect(h.committed).toEqual(["user:alice"]);
    });

    it("when salts are rotated one by one and in a batch, then each rotation has one event with its version and rotation id", async () => {
      await h.salts.rotate("global", "click", rotation("r-create", { force: true }));
      await h.salts.rotate("global", "click", rotation("r-2"));
      await h.salts.getOrCreate("user", "u1", audit);
      await h.salts.rotateMany([
        { kind: "global", id: "click", request: rotation("r-3") },
        { kind: "user", id: "u1", request: rotation("r-u1") },
        // Guarded and stale: skipped, so no event.
        { kind: "user", id: "u1", request: rotation("r-stale", { ifVersion: 7 }) },
      ]);
      const byKey = (key: string) => pending().then((all) => messages(all.filter((e) => e.key === key)));
      expect((await byKey("global:click")).map((m) => [m.type, m.version, m.rotation_id])).toEqual([
        ["salt.created", 1, "r-create"],
        ["salt.rotated", 2, "r-2"],
        ["salt.rotated", 3, "r-3"],
      ]);
      expect((await byKey("user:u1")).map((m) => [m.type, m.version, m.correlation_id])).toEqual([
        ["salt.created", 1, "corr-outbox"],
        ["salt.rotated", 2, "corr-outbox"],
      ]);
      expect(h.committed).toEqual(["global:click", "global:click", "user:u1", "global:click", "user:u1"]);
    });

    it("when a change is refused, skipped or replayed, then no event is recorded", async () => {
      await expect(h.salts.rotate("user", "ghost", rotation("r-missing"))).rejects.toMatchObject({
        code: "not-found",
      });
      const idem = { key: "req-1", fingerprint: "f", answer: () => ({ ok: true }) };
      await h.salts.rotate("user", "bob", rotation("r-b", { force: true, idempotency: idem }));
      await h.salts.rotate("user", "bob", rotation("r-b2", { force: true, idempotency: idem }));
      await h.salts.rotateMany([
        { kind: "user", id: "bob", request: rotation("r-due", { onlyIfDue: true }) },
      ]);
      expect(messages(await pending()).map((m) => [m.id, m.type])).toEqual([["bob", "salt.created"]]);
    });

    it("when a subject is erased, then subject.erased comes after its salt's events, and a new life's after it", async () => {
      await h.salts.rotate("user", "carol", rotation("r-c1", { force: true }));
      await h.salts.rotate("user", "carol", rotation("r-c2"));
      const out = await h.salts.erase("user", "carol", "erase-1", { ...audit, operation: "erase" });
      expect(out).toMatchObject({ status: "erased", versionsDestroyed: 2 });
      await h.salts.erase("user", "never-was", "erase-2", { ...audit, operation: "erase" });
      h.state.clock.advance(1);
      await h.salts.getOrCreate("user", "carol");
      const carol = (await pending()).filter((e) => e.key === "user:carol");
      const inOrder = [...carol].sort((a, b) => (a.seq < b.seq ? -1 : 1));
      expect(inOrder.map((e) => [e.message.type, e.message.version ?? e.message.versions_destroyed])).toEqual(
        [
          ["salt.created", 1],
          ["salt.rotated", 2],
          ["subject.erased", 2],
          ["salt.created", 1],
        ],
      );
      expect(inOrder[2]!.message).toMatchObject({ kind: "user", id: "carol", rotation_id: "erase-1" });
      const nobody = (await h.outbox.pendingOf(["user:never-was"]))[0]!.message;
      expect(nobody).toMatchObject({ type: "subject.erased", versions_destroyed: 0, rotation_id: "erase-2" });
    });

    it("when pending events are read, then they come in (shard, seq) order, page after page, and by key only those keys", async () => {
      for (const id of ["a", "b", "c", "d"]) {
        await h.salts.rotate("user", id, rotation(`r-${id}`, { force: true }));
        h.state.clock.advance(1000);
      }
      await h.salts.rotate("user", "a", rotation("r-a2"));
      // Twenty salts created in one instant: over 16 shards some share a shard and a seq.
      for (let i = 0; i < 20; i++)
        await h.salts.rotate("user", `same-${i}`, rotation(`r-s${i}`, { force: true }));
      const all = await pending();
      const tied = new Set(all.map((e) => `${e.shard}/${e.seq}`));
      expect(tied.size).toBeLessThan(all.length);
      const order = (e: PendingEvent) => `${String(e.shard).padStart(2, "0")}/${e.seq}/${e.outboxId}`;
      expect(all.map(order)).toEqual([...all.map(order)].sort());
      expect(new Set(all.map((e) => e.shard)).size).toBeGreaterThan(1); // the order is tried across shards
      const aInAll = all.filter((e) => e.key === "user:a");
      expect(aInAll.map((e) => e.message.version)).toEqual([1, 2]);
      // Paging: each page starts after the last one's end; together they are every event once, in order.
      const pages: PendingEvent[] = [];
      for (let page = await h.outbox.pending(2); page.length > 0;) {
        expect(page.length).toBeLessThanOrEqual(2);
        pages.push(...page);
        page = await h.outbox.pending(2, page[page.length - 1]);
      }
      expect(pages.map((e) => e.outboxId)).toEqual(all.map((e) => e.outboxId));
      const ofA = await h.outbox.pendingOf(["user:a", "user:zzz"]);
      expect(ofA.map((e) => e.message.version).sort()).toEqual([1, 2]);
      expect(await h.outbox.countPending()).toBe(25);
    });

    it("when events are marked published, then they leave the queue, twice or not", async () => {
      await h.salts.rotate("user", "dan", rotation("r-d", { force: true }));
      await h.salts.rotate("user", "eve", rotation("r-e", { force: true }));
      const [first, second] = await pending();
      await h.outbox.markPublished([first!.outboxId]);
      await h.outbox.markPublished([first!.outboxId]);
      expect((await pending()).map((e) => e.outboxId)).toEqual([second!.outboxId]);
      expect(await h.outbox.countPending()).toBe(1);
      expect(await h.published(first!.outboxId)).toEqual({
        expiresAt: new Date(h.state.clock.now().getTime() + PUBLISHED_RETENTION_MS),
      });
      expect(await h.published(second!.outboxId)).toBeNull();
      h.state.clock.advance(PUBLISHED_RETENTION_MS + 1);
      expect((await pending()).map((e) => e.outboxId)).toEqual([second!.outboxId]);
    });

    it("when a job finishes, then one job.finished with its counts commits with the state, and never twice", async () => {
      const at = h.state.clock.now();
      const dry = job("done", at, { job_id: "job_dry_aaaaaaaaaaaa" });
      await h.jobs.create(dry);
      const running = job("running", at, { job_id: "job_run_bbbbbbbbbbbb", dry_run: false });
      await h.jobs.create(running);
      await h.jobs.putShard(running.job_id, {
        shard: 0,
        state: "done",
        size: 5,
        done: 4,
        failed: 1,
        skipped: 0,
        attempts: 1,
        updated_at: at,
      });
      await h.jobs.update(running.job_id, { state: "done", finished_at: at });
      await h.jobs.update(running.job_id, { state: "failed", finished_at: at });
      expect(await h.jobs.finishIfComplete(running.job_id, at)).toMatchObject({ state: "failed" });
      const finished = messages(await pending()).filter((m) => m.type === "job.finished");
      expect(finished).toHaveLength(2);
      expect(finished).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ job_id: dry.job_id, state: "done", processed: 0, failed: 0 }),
          expect.objectContaining({
            job_id: running.job_id,
            job_type: "rotation",
            state: "done",
            processed: 4,
            failed: 1,
            correlation_id: "corr-job",
          }),
        ]),
      );
      expect(finished.every((m) => !("kind" in m))).toBe(true);
      const [e] = await h.outbox.pendingOf([`job:${running.job_id}`]);
      expect(e!.orderingKey).toBeNull();
    });
  });
}
