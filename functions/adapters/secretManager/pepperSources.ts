import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { failedPrecondition, SaltServiceError, unavailable } from "../../domain/errors";
import { MIN_PEPPER_BYTES, type Pepper, type PepperSource } from "../../ports/pepperSource";

function checkedPepper(bytes: Buffer, version: number, secretName: string): Pepper {
  if (bytes.length === 0) throw failedPrecondition(`${secretName} is missing or empty`);
  if (bytes.length < MIN_PEPPER_BYTES) {
    throw failedPrecondition(`${secretName} is shorter than ${MIN_PEPPER_BYTES} bytes`);
  }
  return { version, bytes };
}

// gRPC codes Secret Manager answers with.
const NOT_FOUND = 5;
const PERMISSION_DENIED = 7;
const FAILED_PRECONDITION = 9;
const UNAUTHENTICATED = 16;

/**
 * The pepper from Secret Manager. `pinned` is a version number or "latest";
 * "latest" is resolved to a concrete version once per instance and cached, as is
 * every older version loaded for verification.
 */
export class SecretManagerPepperSource implements PepperSource {
  private currentLoad: Promise<Pepper> | null = null;
  private readonly versions = new Map<number, Promise<Pepper>>();

  constructor(
    private readonly client: SecretManagerServiceClient,
    private readonly projectId: string,
    private readonly secretName: string,
    private readonly pinned: string = "latest",
    private readonly timeoutMs = 10_000,
  ) {
    if (!/^(latest|[1-9][0-9]*)$/.test(pinned)) {
      throw failedPrecondition(`${secretName} version must be "latest" or a version number`);
    }
  }

  get description(): string {
    return `secret-manager:${this.secretName}@${this.pinned}`;
  }

  current(): Promise<Pepper> {
    if (!this.currentLoad) {
      const load = this.access(this.pinned);
      this.currentLoad = load;
      // A failed load is not cached: the next call tries again.
      load.catch(() => {
        if (this.currentLoad === load) this.currentLoad = null;
      });
    }
    return this.currentLoad;
  }

  version(version: number): Promise<Pepper> {
    let load = this.versions.get(version);
    if (!load) {
      load = this.access(String(version));
      this.versions.set(version, load);
      load.catch(() => this.versions.delete(version));
    }
    return load;
  }

  private async access(version: string): Promise<Pepper> {
    const name = `projects/${this.projectId}/secrets/${this.secretName}/versions/${version}`;
    try {
      const [res] = await this.client.accessSecretVersion({ name }, { timeout: this.timeoutMs, retry: null });
      const resolved = Number(/\/versions\/(\d+)$/.exec(res.name ?? "")?.[1]);
      if (!Number.isInteger(resolved) || resolved < 1) {
        throw failedPrecondition(`${this.secretName}: Secret Manager did not name a version`);
      }
      const data = res.payload?.data;
      const bytes =
        data == null
          ? Buffer.alloc(0)
          : typeof data === "string"
            ? Buffer.from(data, "utf8")
            : Buffer.from(data);
      const pepper = checkedPepper(bytes, resolved, this.secretName);
      if (version !== "latest" || this.pinned === "latest")
        this.versions.set(resolved, Promise.resolve(pepper));
      return pepper;
    } catch (e) {
      if (e instanceof SaltServiceError) throw e;
      const code = (e as { code?: unknown }).code;
      if (code === NOT_FOUND)
        throw failedPrecondition(`${this.secretName} (version ${version}) does not exist`);
      if (code === FAILED_PRECONDITION) {
        throw failedPrecondition(`${this.secretName} (version ${version}) is disabled or destroyed`);
      }
      if (code === PERMISSION_DENIED || code === UNAUTHENTICATED) {
        throw failedPrecondition(`the service may not access ${this.secretName}`);
      }
      throw unavailable(`Secret Manager is unavailable (${this.secretName})`, e);
    }
  }
}

/**
 * The pepper the Functions runtime provides for a bound secret (`defineSecret`;
 * `.secret.local` in the emulator). Its version is declared beside it
 * (`PSEUDONYM_PEPPER_VERSION`, default 1); only that one version is available.
 */
export class RuntimePepperSource implements PepperSource {
  constructor(
    private readonly read: () => string,
    private readonly declaredVersion: number,
    private readonly secretName = "PSEUDONYM_PEPPER",
  ) {}

  get description(): string {
    return `runtime:${this.secretName}@${this.declaredVersion}`;
  }

  private last: { raw: string; pepper: Pepper } | null = null;

  async current(): Promise<Pepper> {
    return this.sync();
  }

  private sync(): Pepper {
    const raw = this.read();
    if (this.last?.raw !== raw) {
      this.last = {
        raw,
        pepper: checkedPepper(Buffer.from(raw, "utf8"), this.declaredVersion, this.secretName),
      };
    }
    return this.last.pepper;
  }

  async version(version: number): Promise<Pepper> {
    if (version !== this.declaredVersion) {
      throw failedPrecondition(`${this.secretName} version ${version} is not available from the runtime`);
    }
    return this.current();
  }
}
