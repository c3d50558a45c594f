import { isUnavailable, notFound, unavailable } from "../domain/errors";
import type { LoadedScope } from "../domain/scope";
import type { ScopeStore } from "../ports/scopeStore";

interface Entry<T> {
  value: T;
  fetchedAt: number;
}

/**
 * Scopes as pseudonymization reads them, under the same rules as salts (SaltCache): no entry is used
 * past `ttlMs` (a rotation or a grant change made anywhere is honoured within it), and while storage
 * is unreachable an entry serves at most `staleMaxMs` after it was read. A reload that finds the same
 * version and secret keeps the loaded object, so keys derived from it stay cached.
 */
export class ScopeCache {
  private readonly current = new Map<string, Entry<LoadedScope>>();
  private readonly versions = new Map<string, Entry<Buffer | null>>();
  private readonly inflight = new Map<string, Promise<LoadedScope>>();

  constructor(
    private readonly store: Pick<ScopeStore, "loadScope" | "scopeSecret">,
    private readonly options: { ttlMs: number; staleMaxMs?: number; clock?: () => number },
  ) {}

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  private fresh<T>(entry: Entry<T> | undefined): entry is Entry<T> {
    return entry !== undefined && this.now() - entry.fetchedAt < this.options.ttlMs;
  }

  private fallback<T>(e: unknown, stale: Entry<T> | undefined): T {
    if (!isUnavailable(e) || !stale) throw e;
    if (this.now() - stale.fetchedAt > (this.options.staleMaxMs ?? Number.POSITIVE_INFINITY))
      throw unavailable("Storage is unreachable and the cached scope is too old to keep serving", e);
    return stale.value;
  }

  /** The scope if it is cached and fresh: the synchronous fast path (only valid ids are ever cached). */
  peek(scopeId: string): LoadedScope | null {
    const entry = this.current.get(scopeId);
    return this.fresh(entry) ? entry.value : null;
  }

  /** The scope's current version and secret; not-found when there is no such scope. */
  load(scopeId: string): Promise<LoadedScope> {
    const entry = this.current.get(scopeId);
    if (this.fresh(entry)) return Promise.resolve(entry.value);
    let pending = this.inflight.get(scopeId);
    if (!pending) {
      pending = this.fetch(scopeId, entry).finally(() => this.inflight.delete(scopeId));
      this.inflight.set(scopeId, pending);
    }
    return pending;
  }

  /** The scope as `load` gives it, but read again if the cached record was read before `since`. */
  loadSince(scopeId: string, since: number): Promise<LoadedScope> {
    const entry = this.current.get(scopeId);
    if (this.fresh(entry) && entry.fetchedAt >= since) return Promise.resolve(entry.value);
    // An entry read before `since` does not serve stale while storage is down either.
    return this.fetch(scopeId, entry && entry.fetchedAt >= since ? entry : undefined);
  }

  /** Read from storage now (grants decided on an admin path must not be a TTL old). */
  async reload(scopeId: string): Promise<LoadedScope> {
    return this.fetch(scopeId, undefined);
  }

  private async fetch(scopeId: string, stale: Entry<LoadedScope> | undefined): Promise<LoadedScope> {
    try {
      const loaded = await this.store.loadScope(scopeId);
      if (!loaded) {
        this.current.delete(scopeId);
        throw notFound(`The scope "${scopeId}"`);
      }
      const before = this.current.get(scopeId)?.value;
      const same =
        before !== undefined &&
        before.record.version === loaded.record.version &&
        before.secret.equals(loaded.secret);
      // The same secret keeps its object (derived keys hang off it); the record is the new one.
      const value = same ? { record: loaded.record, secret: before.secret } : loaded;
      this.current.set(scopeId, { value, fetchedAt: this.now() });
      return value;
    } catch (e) {
      return this.fallback(e, stale);
    }
  }

  /** The secret of a given version (current or retained), or null when none is kept. */
  async version(scopeId: string, version: number): Promise<Buffer | null> {
    const entry = this.current.get(scopeId);
    if (this.fresh(entry) && entry.value.record.version === version) return entry.value.secret;
    const key = `${scopeId}\u0000${version}`;
    const cached = this.versions.get(key);
    if (this.fresh(cached)) return cached.value;
    try {
      const secret = await this.store.scopeSecret(scopeId, version);
      this.versions.set(key, { value: secret, fetchedAt: this.now() });
      return secret;
    } catch (e) {
      return this.fallback(e, cached);
    }
  }

  /** Forget a scope after this instance changed it. */
  invalidate(scopeId: string): void {
    this.current.delete(scopeId);
    for (const k of this.versions.keys()) if (k.startsWith(`${scopeId}\u0000`)) this.versions.delete(k);
  }
}
