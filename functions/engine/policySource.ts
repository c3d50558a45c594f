import type { RotationPolicy } from "../domain/policy";
import type { PolicySource } from "../ports/policySource";
import type { SettingsStore } from "../ports/saltStore";

/**
 * The intervals the last explicit reload activated for every instance, or the
 * deployed params when no reload ever happened. Re-read at most every
 * `refreshMs`, so a reload reaches every instance; nothing else changes them.
 */
export class StoredPolicySource implements PolicySource {
  private policy: RotationPolicy;
  private lastRead: number | null = null;

  constructor(
    private readonly settings: Pick<SettingsStore, "readSettings">,
    private readonly params: () => RotationPolicy,
    private readonly refreshMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.policy = params();
  }

  current(): RotationPolicy {
    return this.policy;
  }

  deployed(): RotationPolicy {
    return this.params();
  }

  set(policy: RotationPolicy): void {
    this.policy = policy;
    this.lastRead = this.now();
  }

  async refresh(force = false): Promise<RotationPolicy> {
    const now = this.now();
    if (!force && this.lastRead !== null && now - this.lastRead < this.refreshMs) return this.policy;
    const { active } = await this.settings.readSettings();
    const params = this.params();
    this.set(active ? { ...params, userDays: active.user_days, globalDays: active.global_days } : params);
    return this.policy;
  }
}
