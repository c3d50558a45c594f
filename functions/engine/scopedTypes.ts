import type { PseudonymizeResult, VerifyContext } from "./pseudonymInputs";

/** What a caller may ask for beside the plain pseudonyms. */
export interface PseudonymOptions {
  /** Pseudonyms of this scope (pairwise); a service serving consumers checks `authorizeScope` first. */
  scope?: string | undefined;
  /** Also the pseudonyms under the user's previous salt version, within LINK_WINDOW_HOURS of its rotation. */
  withPrevious?: boolean | undefined;
}

export interface OptionsResult<T> extends PseudonymizeResult<T> {
  scope?: { id: string; version: number };
  /** Per listed field present in the record: the previous version's pseudonym, or null. */
  previous?: Record<string, string | null>;
  /** The salt version `previous` was made under (null when none was given). */
  previousVersion?: number | null;
}

/** A pseudonym context, with the scope a scoped pseudonym must name (absent: it must be unscoped). */
export type ScopedVerifyContext = VerifyContext & { scope?: string | undefined };

export interface ScopedOptions {
  clock: () => Date;
  /** LINK_WINDOW_HOURS, read when asked (a reload may change nothing else). */
  linkWindowHours: () => number;
  /** Every request for a previous pseudonym, given or not: the link metric. */
  onLink?: (given: boolean) => void;
}
