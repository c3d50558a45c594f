import { isUnavailable, notFound } from "../domain/errors";
import type { SaltKind } from "../domain/ids";
import type { LoadedSalt } from "../domain/salt";
import type { AuditContext, SaltReader, SaltWriter } from "../ports/saltStore";

export interface SaltCacheOptions {
  ttlMs: number;
  maxEntries?: number;
  clock?: () => number;
}

interface Entry {
  loaded: LoadedSalt;
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
 * The in-process cache pseudonymization reads salts through. Concurrent misses
 * for one salt share one storage read; a batch touches storage once per distinct
 * salt. When storage is unavailable, a salt already loaded keeps serving (the
 * in-memory fallback); nothing is ever created in memory instead of storage.
 */
export class SaltCache {
  private readonly entries = new Map<string, Entry>();
  private readonly retired = new Map<string, { salt: Buffer; fetchedAt: number }>();
  private readonly inflight = new Map<string, Promise<LoadedSalt>>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  readonly stats: SaltCacheStats = { reads: 0, hits: 0, stale: 0 };

  constructor(
    private readonly backend: Pick<SaltReader, "get" | "getVersion"> & Pick<SaltWriter, "getOrCreate">,
    private readonly options: SaltCacheOptions,
  ) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.clock ?? Date.now;
  }

  private static key(kind: SaltKind, id: string): string {
    return `${kind}\u0000${id}`;
  }

  /** The current salt, created if `create` and absent. */
  async current(
    kind: SaltKind,
    id: string,
    opts: { create: boolean; audit?: AuditContext },
  ): Promise<LoadedSalt> {
    const key = SaltCache.key(kind, id);
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.fetchedAt < this.options.ttlMs) {
      this.stats.hits++;
      return entry.loaded;
    }
    const pending = this.inflight.get(key);
    if (pending) {
      this.stats.hits++;
      return pending;
    }
    const load = this.fetch(kind, id, opts, entry).finally(() => this.inflight.delete(key));
    this.inflight.set(key, load);
    return load;
  }

  private async fetch(
    kind: SaltKind,
    id: string,
    opts: { create: boolean; audit?: AuditContext },
    stale: Entry | undefined,
  ): Promise<LoadedSalt> {
    this.stats.reads++;
    try {
      const loaded = opts.create
        ? (await this.backend.getOrCreate(kind, id, opts.audit)).loaded
        : await this.backend.get(kind, id);
      if (!loaded) throw notFound(`The ${kind} salt`);
      this.remember(SaltCache.key(kind, id), loaded);
      return loaded;
    } catch (e) {
      if (stale && isUnavailable(e)) {
        this.stats.stale++;
        return stale.loaded;
      }
      throw e;
    }
  }

  private remember(key: string, loaded: LoadedSalt): void {
    this.entries.delete(key);
    this.entries.set(key, { loaded, fetchedAt: this.now() });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  /** A specific version (current or retained), for verifying older pseudonyms. */
  async version(kind: SaltKind, id: string, version: number): Promise<Buffer | null> {
    const current = this.entries.get(SaltCache.key(kind, id));
    if (current?.loaded.record.version === version) return current.loaded.salt;
    const key = `${SaltCache.key(kind, id)}\u0000${version}`;
    const cached = this.retired.get(key);
    if (cached && this.now() - cached.fetchedAt < this.options.ttlMs) {
      this.stats.hits++;
      return cached.salt;
    }
    this.stats.reads++;
    const salt = await this.backend.getVersion(kind, id, version);
    if (this.retired.size >= this.maxEntries) this.retired.clear();
    // Absent versions are not remembered: a newer version may appear at any time.
    if (salt) this.retired.set(key, { salt, fetchedAt: this.now() });
    return salt;
  }

  /** Forget a salt after this instance rotated or erased it. */
  invalidate(kind: SaltKind, id: string): void {
    const prefix = SaltCache.key(kind, id);
    this.entries.delete(prefix);
    for (const k of this.retired.keys()) if (k.startsWith(`${prefix}\u0000`)) this.retired.delete(k);
  }

  clear(): void {
    this.entries.clear();
    this.retired.clear();
  }
}
