import { failedPrecondition, SaltServiceError, unavailable } from "../../domain/errors";
import type { SecretVersion, VersionedSecret } from "../../ports/secrets";

const isFailedPrecondition = (e: unknown) =>
  e instanceof SaltServiceError && e.code === "failed-precondition";

// gRPC codes Secret Manager answers with.
const NOT_FOUND = 5;
const PERMISSION_DENIED = 7;
const FAILED_PRECONDITION = 9;
const UNAUTHENTICATED = 16;

/** The one call of Secret Manager's client this adapter makes (app/firebase.ts loads the client on it). */
export interface SecretAccessClient {
  accessSecretVersion(
    request: { name: string },
    options: { timeout: number; retry: null },
  ): Promise<
    [{ name?: string | null; payload?: { data?: Uint8Array | string | null } | null }, ...unknown[]]
  >;
}

/** Turns raw secret bytes into the secret's usable bytes, or throws failed-precondition. */
export type SecretValidator = (raw: Buffer, name: string) => Buffer;

export interface SecretManagerSecretOptions {
  /** `latest` or a version number. */
  pinned?: string;
  validate: SecretValidator;
  /** Re-resolve `latest` this often (0: once per instance, as the pepper must). */
  refreshMs?: number;
  /** How long a version that does not exist or is disabled is remembered as such. */
  negativeTtlMs?: number;
  /**
   * Versions asked by untrusted input (the pepper version a pseudonym names): above the newest version
   * known they are refused without a call. Off for keys, whose versions come from stored ciphertext.
   */
  refuseAboveNewest?: boolean;
  /** A loaded version is checked again after this long, so a version disabled since stops being used. */
  revalidateMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

const NEGATIVE_MAX = 1000;
// A refused current version is asked about again at most this often (or every refresh, if sooner).
const REFUSAL_MS = 10_000;
// After a transient fault, the current version is asked about again at most this often.
const RETRY_MS = 5_000;
// Above the newest version seen, versions cannot exist until `latest` moves: look again at most this often.
const LATEST_PROBE_MS = 300_000;

/**
 * A secret in Secret Manager. `latest` is resolved to a concrete version (once,
 * or every `refreshMs`), every version loaded is cached, and versions that are
 * missing or disabled are remembered for `negativeTtlMs` in a bounded cache, so
 * that probing absurd versions (a forged pseudonym, say) costs no call each.
 */
export class SecretManagerSecret implements VersionedSecret {
  // The version in use and when Secret Manager last confirmed it (enabled, readable, valid).
  private good: { secret: SecretVersion; confirmedAt: number } | null = null;
  // A refusal (disabled, destroyed, missing, no access) remembered briefly, so a flood of calls is not a flood of accesses.
  private refusal: { error: SaltServiceError; until: number } | null = null;
  // After a transient fault, when Secret Manager is asked again.
  private retryAt = 0;
  private inflight: Promise<SecretVersion> | null = null;
  private newestSeen = 0;
  private newestAt = 0;
  private readonly versions = new Map<number, { load: Promise<SecretVersion>; at: number }>();
  private readonly refused = new Map<number, { until: number; error: SaltServiceError }>();
  private readonly pinned: string;
  private readonly now: () => number;

  constructor(
    private readonly client: SecretAccessClient,
    private readonly projectId: string,
    readonly name: string,
    private readonly options: SecretManagerSecretOptions,
  ) {
    this.pinned = options.pinned ?? "latest";
    this.now = options.now ?? Date.now;
    if (!/^(latest|[1-9][0-9]*)$/.test(this.pinned)) {
      throw failedPrecondition(`${name} version must be "latest" or a version number`);
    }
  }

  get description(): string {
    return `secret-manager:${this.name}@${this.pinned}`;
  }

  private get refreshMs(): number {
    return this.options.refreshMs ?? 0;
  }

  /** Whether the version in use was confirmed recently enough to be used without asking again. */
  private fresh(at: number): boolean {
    return this.good !== null && (this.refreshMs === 0 || at - this.good.confirmedAt <= this.refreshMs);
  }

  peek(): SecretVersion | null {
    return this.fresh(this.now()) ? this.good!.secret : null;
  }

  /**
   * The version to use now. With `refreshMs`, Secret Manager is asked again once it has passed: a version
   * found disabled, destroyed or gone (or no longer accessible or valid) stops being used at once and every
   * call is failed-precondition naming it, never a fall back to what was loaded before; only a transient
   * fault (unavailable) keeps the last confirmed version, and only until one more `refreshMs` has passed
   * since it was confirmed (then unavailable too).
   */
  current(): Promise<SecretVersion> {
    const now = this.now();
    if (this.fresh(now)) return Promise.resolve(this.good!.secret);
    if (this.refusal && now < this.refusal.until) return Promise.reject(this.refusal.error);
    if (this.good && now < this.retryAt && this.withinGrace(now)) return Promise.resolve(this.good.secret);
    this.inflight ??= this.refresh().finally(() => (this.inflight = null));
    return this.inflight;
  }

  private namesVersion(e: unknown, version: number): boolean {
    return new RegExp(`version ${version}\\b`).test((e as Error).message);
  }

  private withinGrace(now: number): boolean {
    return this.good !== null && this.refreshMs > 0 && now - this.good.confirmedAt <= 2 * this.refreshMs;
  }

  private async refresh(): Promise<SecretVersion> {
    try {
      const secret = await this.access(this.pinned);
      this.good = { secret, confirmedAt: this.now() };
      this.refusal = null;
      return secret;
    } catch (e) {
      const now = this.now();
      if (isFailedPrecondition(e)) {
        // Fail closed: nothing more is encrypted under the version Secret Manager no longer serves, and
        // this instance stops decrypting with its cached copy too.
        const version = this.good?.secret.version;
        if (version !== undefined && (this.pinned !== "latest" || this.namesVersion(e, version))) {
          this.versions.delete(version);
          this.remember(version, e as SaltServiceError);
        }
        this.good = null;
        if (this.refreshMs > 0) {
          this.refusal = { error: e as SaltServiceError, until: now + Math.min(this.refreshMs, REFUSAL_MS) };
        }
        throw e;
      }
      if (this.withinGrace(now)) {
        this.retryAt = now + Math.min(this.refreshMs, RETRY_MS);
        return this.good!.secret;
      }
      this.good = null;
      throw e;
    }
  }

  async version(version: number): Promise<SecretVersion> {
    const refused = this.refused.get(version);
    if (refused && refused.until > this.now()) throw refused.error;
    if (this.options.refuseAboveNewest) {
      // Learn the newest version once (a pinned secret never resolved `latest`), then again every few minutes.
      if (this.now() - this.newestAt >= LATEST_PROBE_MS) await this.access("latest").catch(() => undefined);
      if (this.newestSeen > 0 && version > this.newestSeen) {
        throw failedPrecondition(`${this.name} version ${version} does not exist`);
      }
    }
    const cached = this.versions.get(version);
    const stale = cached && this.now() - cached.at > (this.options.revalidateMs ?? 600_000);
    if (cached && !stale) return cached.load;
    const load = this.access(String(version));
    this.versions.set(version, { load, at: this.now() });
    load.catch((e: unknown) => {
      const disabled = e instanceof SaltServiceError && e.code === "failed-precondition";
      // Disabled or destroyed since: forget it. Secret Manager unreachable: keep serving what was loaded.
      if (disabled || !cached) this.versions.delete(version);
      else this.versions.set(version, cached);
      if (disabled) this.remember(version, e);
    });
    return stale && cached
      ? load.catch((e: unknown) => (isFailedPrecondition(e) ? Promise.reject(e) : cached.load))
      : load;
  }

  private remember(version: number, error: SaltServiceError): void {
    if (this.refused.size >= NEGATIVE_MAX) this.refused.delete(this.refused.keys().next().value!);
    this.refused.set(version, { until: this.now() + (this.options.negativeTtlMs ?? 600_000), error });
  }

  private async access(version: string): Promise<SecretVersion> {
    const name = `projects/${this.projectId}/secrets/${this.name}/versions/${version}`;
    try {
      const [res] = await this.client.accessSecretVersion(
        { name },
        { timeout: this.options.timeoutMs ?? 10_000, retry: null },
      );
      const resolved = Number(/\/versions\/(\d+)$/.exec(res.name ?? "")?.[1]);
      if (!Number.isInteger(resolved) || resolved < 1) {
        throw failedPrecondition(`${this.name}: Secret Manager did not name a version`);
      }
      const data = res.payload?.data;
      const raw =
        data == null
          ? Buffer.alloc(0)
          : typeof data === "string"
            ? Buffer.from(data, "utf8")
            : Buffer.from(data);
      const secret = {
        version: resolved,
        bytes: this.options.validate(raw, `${this.name} version ${resolved}`),
      };
      if (version === "latest" && resolved >= this.newestSeen) {
        this.newestSeen = resolved;
        this.newestAt = this.now();
      }
      this.versions.set(resolved, { load: Promise.resolve(secret), at: this.now() });
      return secret;
    } catch (e) {
      if (e instanceof SaltServiceError) throw e;
      const code = (e as { code?: unknown }).code;
      if (code === NOT_FOUND) throw failedPrecondition(`${this.name} version ${version} does not exist`);
      if (code === FAILED_PRECONDITION) {
        // `latest` names the most recently created version, whatever its state; Secret Manager's message says which.
        const said = (e as { details?: unknown; message?: unknown }).details ?? (e as Error).message;
        const named = /\/versions\/(\d+)/.exec(String(said ?? ""))?.[1];
        const which = version === "latest" && named ? `${named} (latest)` : version;
        throw failedPrecondition(`${this.name} version ${which} is disabled or destroyed`);
      }
      if (code === PERMISSION_DENIED || code === UNAUTHENTICATED) {
        throw failedPrecondition(`the service may not access ${this.name}`);
      }
      throw unavailable(`Secret Manager is unavailable (${this.name})`, e);
    }
  }
}

/**
 * A secret the Functions runtime injects for a bound secret (`.secret.local` in
 * the emulator), known by one declared version; no other version is available.
 */
export class RuntimeSecret implements VersionedSecret {
  private last: { raw: string; secret: SecretVersion } | null = null;

  constructor(
    readonly name: string,
    private readonly read: () => string,
    private readonly declaredVersion: number,
    private readonly validate: SecretValidator,
  ) {}

  get description(): string {
    return `runtime:${this.name}@${this.declaredVersion}`;
  }

  peek(): SecretVersion | null {
    return this.last && this.last.raw === this.read() ? this.last.secret : null;
  }

  async current(): Promise<SecretVersion> {
    const raw = this.read();
    if (this.last?.raw !== raw) {
      const bytes = this.validate(Buffer.from(raw, "utf8"), this.name);
      this.last = { raw, secret: { version: this.declaredVersion, bytes } };
    }
    return this.last.secret;
  }

  async version(version: number): Promise<SecretVersion> {
    if (version !== this.declaredVersion) {
      throw failedPrecondition(`${this.name} version ${version} is not available from the runtime`);
    }
    return this.current();
  }
}
