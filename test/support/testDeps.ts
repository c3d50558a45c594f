import { randomBytes } from "node:crypto";
import { failedPrecondition } from "../../functions/domain/errors";
import { DEFAULT_POLICY, type RotationPolicy } from "../../functions/domain/policy";
import type { BackendDeps } from "../../functions/ports/backendDeps";
import type { SecretVersion, VersionedSecret } from "../../functions/ports/secrets";

export const DAY = 24 * 60 * 60 * 1000;

/** A clock tests move by hand. */
export class ManualClock {
  constructor(private t = Date.parse("2026-01-01T00:00:00.000Z")) {}
  now = (): Date => new Date(this.t);
  advance(ms: number): void {
    this.t += ms;
  }
  set(d: Date): void {
    this.t = d.getTime();
  }
}

/**
 * A versioned secret whose versions tests add, disable and pick, as an operator
 * would in Secret Manager. With no current version it fails closed.
 */
export class TestSecret implements VersionedSecret {
  readonly versions = new Map<number, { bytes: Buffer; enabled: boolean }>();
  currentVersion: number | null = null;
  readonly description = "test";

  constructor(
    readonly name: string,
    first: Buffer | null = randomBytes(32),
  ) {
    if (first) this.add(first);
  }

  /** Adds a version and makes it current (as `latest` would resolve). */
  add(bytes: Buffer = randomBytes(32)): number {
    const v = this.versions.size + 1;
    this.versions.set(v, { bytes, enabled: true });
    this.currentVersion = v;
    return v;
  }

  setEnabled(version: number, enabled: boolean): void {
    this.versions.get(version)!.enabled = enabled;
  }

  peek(): SecretVersion | null {
    const v = this.currentVersion;
    const found = v === null ? undefined : this.versions.get(v);
    return v !== null && found?.enabled ? { version: v, bytes: found.bytes } : null;
  }

  async current(): Promise<SecretVersion> {
    if (this.currentVersion === null) throw failedPrecondition(`${this.name} is missing or empty`);
    return this.version(this.currentVersion);
  }

  async version(version: number): Promise<SecretVersion> {
    const found = this.versions.get(version);
    if (!found) throw failedPrecondition(`${this.name} version ${version} does not exist`);
    if (!found.enabled) throw failedPrecondition(`${this.name} version ${version} is disabled or destroyed`);
    return { version, bytes: found.bytes };
  }
}

export interface TestState {
  clock: ManualClock;
  policy: RotationPolicy;
  retentionDays: number;
  keys: TestSecret;
  auditKey: TestSecret;
}

export function makeDeps(): { deps: BackendDeps; state: TestState } {
  const state: TestState = {
    clock: new ManualClock(),
    policy: DEFAULT_POLICY,
    retentionDays: 30,
    keys: new TestSecret("SALT_ENCRYPTION_KEY"),
    auditKey: new TestSecret("AUDIT_KEY"),
  };
  const deps: BackendDeps = {
    clock: () => state.clock.now(),
    policy: () => state.policy,
    retentionDays: () => state.retentionDays,
    keys: state.keys,
    auditKey: state.auditKey,
  };
  return { deps, state };
}
