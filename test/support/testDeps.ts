import { randomBytes } from "node:crypto";
import { SaltCipher } from "../../functions/domain/encryption";
import { failedPrecondition } from "../../functions/domain/errors";
import { DEFAULT_POLICY, type RotationPolicy } from "../../functions/domain/policy";
import type { BackendDeps } from "../../functions/ports/backendDeps";

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

export interface TestState {
  clock: ManualClock;
  policy: RotationPolicy;
  retentionDays: number;
  /** null simulates a missing SALT_ENCRYPTION_KEY. */
  key: Buffer | null;
  olderKeys: Buffer[];
}

export function makeDeps(): { deps: BackendDeps; state: TestState } {
  const state: TestState = {
    clock: new ManualClock(),
    policy: DEFAULT_POLICY,
    retentionDays: 30,
    key: randomBytes(32),
    olderKeys: [],
  };
  const deps: BackendDeps = {
    clock: () => state.clock.now(),
    policy: () => state.policy,
    retentionDays: () => state.retentionDays,
    cipher: () => {
      if (!state.key) throw failedPrecondition("SALT_ENCRYPTION_KEY is missing or empty");
      return new SaltCipher(state.key, state.olderKeys);
    },
  };
  return { deps, state };
}
