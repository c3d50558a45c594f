import { describe, expect, it } from "vitest";
import { MemorySaltStore } from "../../functions/adapters/memory/memorySaltStore";
import { unavailable } from "../../functions/domain/errors";
import { SaltCache } from "../../functions/engine/saltCache";
import { makeDeps } from "../support/testDeps";

/** A memory store that counts what the cache asks of it, and can be taken down. */
function counted() {
  const { deps, state } = makeDeps();
  const store = new MemorySaltStore(deps);
  const calls: Record<string, number> = {};
  let down = false;
  const backend = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        if (down) return Promise.reject(unavailable("storage is down (test)"));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const cache = new SaltCache(backend, {
    ttlMs: 60_000,
    staleMaxMs: 300_000,
    clock: () => state.clock.now().getTime(),
  });
  return { cache, calls, state, store, setDown: (d: boolean) => (down = d) };
}

const ids = (n: number, prefix = "u") => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe("SaltCache.currentMany: a batch's salts in batched round trips", () => {
  it("when 1,000 new users are loaded, then storage is asked once, and not again while the entries are fresh", async () => {
    const { cache, calls, store } = counted();
    const users = ids(1000);
    const first = await cache.currentMany("user", [...users, ...users.slice(0, 10)], { create: true });
    expect(first.size).toBe(1000);
    expect(calls).toEqual({ getOrCreateMany: 1 });
    expect(await store.count("user")).toBe(1000);
    const again = await cache.currentMany("user", users, { create: true });
    expect(calls).toEqual({ getOrCreateMany: 1 });
    for (const id of users) expect(again.get(id)).toBe(first.get(id));
    // Single lookups of the library find them too.
    expect(cache.peek("user", "u-5")).toBe(first.get("u-5"));
  });

  it("when entries expire, then only the expired are loaded again, together", async () => {
    const { cache, calls, state } = counted();
    await cache.currentMany("user", ids(10), { create: true });
    state.clock.advance(30_000);
    await cache.currentMany("user", ids(5, "late"), { create: true });
    state.clock.advance(31_000);
    await cache.currentMany("user", [...ids(10), ...ids(5, "late")], { create: true });
    expect(calls).toEqual({ getOrCreateMany: 3 });
  });

  it("when a single load and a batch want one salt at once, then they share one storage read", async () => {
    const { cache, calls } = counted();
    const [batch, single] = await Promise.all([
      cache.currentMany("user", ids(20), { create: true }),
      cache.current("user", "u-3", { create: true }),
    ]);
    expect(single).toBe(batch.get("u-3"));
    expect(calls).toEqual({ getOrCreateMany: 1 });
  });

  it("when reading without creation, then absent salts are left out of the answer", async () => {
    const { cache, calls } = counted();
    await cache.currentMany("user", ["a"], { create: true });
    const got = await cache.currentMany("user", ["a", "b"], { create: false });
    expect([...got.keys()]).toEqual(["a"]);
    expect(calls).toEqual({ getOrCreateMany: 1, getMany: 1 });
  });

  it("when storage is down, then salts read recently enough keep serving, and a batch needing any other is unavailable", async () => {
    const { cache, state, setDown } = counted();
    const loaded = await cache.currentMany("user", ids(3), { create: true });
    state.clock.advance(61_000);
    setDown(true);
    const stale = await cache.currentMany("user", ids(3), { create: true });
    expect(stale.get("u-1")).toBe(loaded.get("u-1"));
    expect(cache.stats.stale).toBe(3);
    await expect(cache.currentMany("user", [...ids(3), "new"], { create: true })).rejects.toMatchObject({
      code: "unavailable",
    });
    state.clock.advance(300_000);
    await expect(cache.currentMany("user", ids(3), { create: true })).rejects.toMatchObject({
      code: "unavailable",
    });
  });

  it("when a batch needs records read since a time (a query's pin settling), then older entries are read again, and while storage is down they do not serve", async () => {
    const { cache, calls, state, setDown } = counted();
    await cache.currentMany("user", ids(3), { create: true });
    const since = state.clock.now().getTime() + 1;
    state.clock.advance(10);
    const again = await cache.currentMany("user", ids(3), { create: true, since });
    expect(calls).toEqual({ getOrCreateMany: 2 });
    // Read after `since` now: served from the cache.
    await cache.currentMany("user", ids(3), { create: true, since });
    expect(calls).toEqual({ getOrCreateMany: 2 });
    expect(again.size).toBe(3);
    setDown(true);
    await expect(
      cache.currentMany("user", ids(3), { create: true, since: state.clock.now().getTime() + 1 }),
    ).rejects.toMatchObject({ code: "unavailable" });
    // Without `since`, the same entries serve as before.
    state.clock.advance(61_000);
    expect((await cache.currentMany("user", ids(3), { create: true })).size).toBe(3);
  });
});
