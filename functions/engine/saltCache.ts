import { failedPrecondition, isUnavailable, notFound, unavailable } from "../domain/errors";
import type { SaltKind } from "../domain/ids";
import type { LoadedSalt } from "../domain/salt";
import type { AuditContext, SaltMaintenance, SaltReader, SaltWriter } from "../ports/saltStore";

/** Salts one instance's cache holds at most (both kinds together), unless told otherwise. */
export const SALT_CACHE_MAX_ENTRIES = 100_000;

export interface SaltCacheOptions {
  /** How long a loaded salt (or retained version) is used before storage is asked again. */
  ttlMs: number;
  /** While storage is unreachable, how long after it was read a salt may still serve. */
  staleMaxMs?: number;
  maxEntries?: number;
  clock?: () => number;
}

interface Entry<T> {
  value: T;
  fetchedAt: number;
}

export interface SaltCacheStats {
  /** Storage reads made through the cache. */
  reads: number;
  hits: number;
  /** Answers served from an expired entry because storage was unavailable. */
  stale: number;
}

/**
 * The in-process cache pseudonymization reads salts through. No entry is used
 * past `ttlMs` (so an erase or rotation made by any instance is honoured here
 * within it); concurrent misses for one salt share one read. When storage is
 * unavailable an expired entry keeps serving, but only until `staleMaxMs` after
 * it was read; after that the call is unavailable. Nothing is ever created in
 * memory instead of storage.
 */
export class SaltCache {
  // One map per kind, keyed by the id itself: a lookup builds no key string (the per-event hot path).
  private readonly entries: Record<SaltKind, Map<string, Entry<LoadedSalt>>> = {
    user: new Map(),
    global: new Map(),
  };
  private readonly retired = new Map<string, Entry<Buffer | null>>();
  private readonly inflight = new Map<string, Promise<LoadedSalt>>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  readonly stats: SaltCacheStats = { reads: 0, hits: 0, stale: 0 };

  constructor(
    private readonly backend: Pick<SaltReader, "get" | "getMany" | "getVersion"> &
      Pick<SaltWriter, "getOrCreate" | "getOrCreateMany"> &
      Pick<SaltMaintenance, "upgradeLegacy">,
    private readonly options: SaltCacheOptions,
  ) {
    this.maxEntries = options.maxEntries ?? SALT_CACHE_MAX_ENTRIES;
    this.now = options.clock ?? Date.now;
  }

  private static key(kind: SaltKind, id: string): string {
    return `${kind}\u0000${id}`;
  }

  private fresh(entry: Entry<unknown> | undefined, now = this.now()): boolean {
    return entry !== undefined && now - entry.fetchedAt < this.options.ttlMs;
  }

  /**
   * The current salt if it is cached and fresh: the synchronous fast path. With `since`, an entry read
   * before that time does not count (a BigQuery query's batch needs records read after its pin was made).
   */
  peek(kind: SaltKind, id: string, now = this.now(), since = 0): LoadedSalt | null {
    const entry = this.entries[kind].get(id);
    if (!entry || !this.fresh(entry, now) || entry.fetchedAt < since) return null;
    this.stats.hits++;
    return entry.value;
  }

  /** The current salt, created if `create` and absent. */
  current(kind: SaltKind, id: string, opts: { create: boolean; audit?: AuditContext }): Promise<LoadedSalt> {
    const cached = this.peek(kind, id);
    if (cached) return Promise.resolve(cached);
    // A load that may create is not shared with one that must not (verification never creates).
    const flight = `${SaltCache.key(kind, id)}\u0000${opts.create ? "create" : "read"}`;
    const pending = this.inflight.get(flight);
    if (pending) {
      this.stats.hits++;
      return pending;
    }
    const load = this.fetch(kind, id, opts).finally(() => this.inflight.delete(flight));
    this.inflight.set(flight, load);
    return load;
  }

  /**
   * The current salts of many ids of one kind (a batch's distinct users): fresh entries from the
   * cache, loads already in flight shared, and the rest loaded together, in one batched read and,
   * with `create`, batched commits creating the absent ones; all of them cached. Without `create`
   * an absent salt is left out of the answer. While storage is unavailable each id is served as
   * `current` would serve it, and if one cannot be, the call is unavailable. With `since`, entries
   * read before that time are read again, and loads in flight are not shared.
   */
  async currentMany(
    kind: SaltKind,
    ids: readonly string[],
    opts: { create: boolean; audit?: AuditContext; since?: number },
  ): Promise<Map<string, LoadedSalt>> {
    const out = new Map<string, LoadedSalt>();
    const waits: Promise<unknown>[] = [];
    const load: string[] = [];
    const mode = opts.create ? "create" : "read";
    // One clock read for the batch: a thousand ids are looked up at one instant.
    const now = this.now();
    for (const id of new Set(ids)) {
      const cached = this.peek(kind, id, now, opts.since);
      if (cached) {
        out.set(id, cached);
        continue;
      }
      const pending =
        opts.since === undefined ? this.inflight.get(`${SaltCache.key(kind, id)}\u0000${mode}`) : undefined;
      if (pending) {
        this.stats.hits++;
        waits.push(pending.then((l) => out.set(id, l)));
      } else load.push(id);
    }
    if (load.length > 0) {
      const batch = this.fetchMany(kind, load, opts);
      load.forEach((id, n) => {
        const flight = `${SaltCache.key(kind, id)}\u0000${mode}`;
        const one = batch.then((all) => all[n] ?? Promise.reject(notFound(`The ${kind} salt`)));
        this.inflight.set(flight, one);
        // Whoever shares it handles its failure; the map entry only must not leave it unhandled.
        one.catch(() => undefined).finally(() => this.inflight.delete(flight));
      });
      waits.push(batch.then((all) => all.forEach((l, n) => l && out.set(load[n]!, l))));
    }
    await Promise.all(waits);
    return out;
  }

  private async fetchMany(
    kind: SaltKind,
    ids: string[],
    opts: { create: boolean; audit?: AuditContext; since?: number },
  ): Promise<(LoadedSalt | null)[]> {
    this.stats.reads += ids.length;
    try {
      const loaded = opts.create
        ? (await this.backend.getOrCreateMany(kind, ids, opts.audit)).map((r) => r.loaded)
        : await this.backend.getMany(kind, ids);
      loaded.forEach((l, n) => l && this.rememberSalt(kind, ids[n]!, l));
      return loaded;
    } catch (e) {
      // An entry read before `since` is not served stale either: the caller needs a newer read.
      return ids.map((id) => {
        const entry = this.entries[kind].get(id);
        return this.fallback(e, entry && entry.fetchedAt >= (opts.since ?? 0) ? entry : undefined);
      });
    }
  }

  /** Serves `stale` when storage is down and it is young enough; otherwise rethrows. */
  private fallback<T>(e: unknown, stale: Entry<T> | undefined): T {
    if (!isUnavailable(e) || !stale) throw e;
    if (this.now() - stale.fetchedAt > (this.options.staleMaxMs ?? Number.POSITIVE_INFINITY)) {
      throw unavailable("Storage is unreachable and the cached salt is too old to keep serving", e);
    }
    this.stats.stale++;
    return stale.value;
  }

  private async fetch(kind: SaltKind, id: string, opts: { create: boolean; audit?: AuditContext }) {
    this.stats.reads++;
    try {
      const loaded = opts.create
        ? (await this.backend.getOrCreate(kind, id, opts.audit)).loaded
        : await this.backend.get(kind, id);
      if (!loaded) throw notFound(`The ${kind} salt`);
      this.rememberSalt(kind, id, loaded);
      return loaded;
    } catch (e) {
      return this.fallback(e, this.entries[kind].get(id));
    }
  }

  /** Stores `value` as the most recently loaded entry of `map` (a Map keeps insertion order). */
  private put<T>(map: Map<string, Entry<T>>, key: string, value: T): void {
    map.delete(key);
    map.set(key, { value, fetchedAt: this.now() });
  }

  private remember<T>(map: Map<string, Entry<T>>, key: string, value: T): void {
    this.put(map, key, value);
    if (map.size > this.maxEntries) SaltCache.dropOldest(map);
  }

  /** Both kinds share one bound; the fuller kind gives up its least recently loaded salt. */
  private rememberSalt(kind: SaltKind, id: string, loaded: LoadedSalt): void {
    const mine = this.entries[kind];
    const other = this.entries[kind === "user" ? "global" : "user"];
    this.put(mine, id, loaded);
    if (mine.size + other.size > this.maxEntries) SaltCache.dropOldest(other.size > mine.size ? other : mine);
  }

  private static dropOldest(map: Map<string, unknown>): void {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }

  /**
   * A specific version (current or retained) for verifying older pseudonyms; null when none is kept.
   * `incarnation` (the salt's `created_at`, in ms) keeps apart versions of a salt erased and made again.
   */
  async version(kind: SaltKind, id: string, version: number, incarnation?: number): Promise<Buffer | null> {
    const current = this.entries[kind].get(id);
    if (
      current &&
      this.fresh(current) &&
      current.value.record.version === version &&
      (incarnation === undefined || current.value.record.created_at.getTime() === incarnation)
    ) {
      this.stats.hits++;
      return current.value.salt;
    }
    const key = `${SaltCache.key(kind, id)}\u0000${version}\u0000${incarnation ?? ""}`;
    const cached = this.retired.get(key);
    if (cached && this.fresh(cached)) {
      this.stats.hits++;
      return cached.value;
    }
    this.stats.reads++;
    try {
      const salt = await this.backend.getVersion(kind, id, version);
      // Absence is remembered for the TTL too: an erased salt stays erased everywhere within it.
      this.remember(this.retired, key, salt);
      return salt;
    } catch (e) {
      return this.fallback(e, cached);
    }
  }

  /**
   * A user's salt with its shred secret. One from the first release has none (until the sweep upgrades
   * it): it is given one in storage now, so nothing is ever keyed without it. If the salt was erased
   * meanwhile (this instance may still hold it), a new salt is made, with a new shred secret.
   */
  async userWithShred(id: string, loaded: LoadedSalt): Promise<LoadedSalt> {
    if (loaded.shred) return loaded;
    await this.backend.upgradeLegacy("user", id);
    this.invalidate("user", id);
    const fresh = await this.current("user", id, { create: true });
    if (!fresh.shred)
      throw failedPrecondition("The subject's salt has no shred secret and could not be given one");
    return fresh;
  }

  /** Forget a salt after this instance rotated or erased it. */
  invalidate(kind: SaltKind, id: string): void {
    const prefix = SaltCache.key(kind, id);
    this.entries[kind].delete(id);
    for (const k of this.retired.keys()) if (k.startsWith(`${prefix}\u0000`)) this.retired.delete(k);
  }

  clear(): void {
    this.entries.user.clear();
    this.entries.global.clear();
    this.retired.clear();
  }
}
