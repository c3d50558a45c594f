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
// Above the newest version seen, versions cannot exist until `latest` moves: look again at most this often.
const LATEST_PROBE_MS = 300_000;

/**
 * A secret in Secret Manager. `latest` is resolved to a concrete version (once,
 * or every `refreshMs`), every version loaded is cached, and versions that are
 * missing or disabled are remembered for `negativeTtlMs` in a bounded cache, so
 * that probing absurd versions (a forged pseudonym, say) costs no call each.
 */
export class SecretManagerSecret implements VersionedSecret {
  private currentLoad: Promise<SecretVersion> | null = null;
  private currentAt = 0;
  private loaded: SecretVersion | null = null;
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

  peek(): SecretVersion | null {
    return this.loaded;
  }

  current(): Promise<SecretVersion> {
    const refresh = this.options.refreshMs ?? 0;
    const expired = this.currentLoad !== null && refresh > 0 && this.now() - this.currentAt > refresh;
    if (this.currentLoad && !expired) return this.currentLoad;
    const previous = this.currentLoad;
    const load = this.access(this.pinned).then((v) => (this.loaded = v));
    this.currentLoad = load;
    this.currentAt = this.now();
    // A failed load is not cached: the next call tries again; a failed refresh keeps the last good version.
    load.catch(() => {
      if (this.currentLoad === load) this.currentLoad = previous;
    });
    return previous ? load.catch(() => previous) : load;
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
        throw failedPrecondition(`${this.name} version ${version} is disabled or destroyed`);
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
