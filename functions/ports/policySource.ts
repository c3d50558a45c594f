import type { RotationPolicy } from "../domain/policy";

/**
 * The rotation intervals in force in this instance. They change only by an
 * explicit reload (stored for every instance), which `refresh` picks up.
 */
export interface PolicySource {
  current(): RotationPolicy;
  /** Re-reads what the last reload activated, at most every refresh period unless `force`. */
  refresh(force?: boolean): Promise<RotationPolicy>;
  /** The deployed params, read afresh (what a reload with nothing staged returns to). */
  deployed(): RotationPolicy;
  /** Puts `policy` in force here at once (after this instance activated it). */
  set(policy: RotationPolicy): void;
}
