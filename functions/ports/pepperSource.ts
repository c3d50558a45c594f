/** A pepper version as loaded; the bytes never leave the process. */
export interface Pepper {
  readonly version: number;
  readonly bytes: Buffer;
}

/**
 * Where the pepper comes from. Implementations resolve "latest" once, cache what
 * they load, and fail closed (failed-precondition) on a missing, empty or short
 * pepper; storage or network faults are `unavailable`.
 */
export interface PepperSource {
  readonly description: string;
  current(): Promise<Pepper>;
  /** An older version, for verifying pseudonyms made under it. */
  version(version: number): Promise<Pepper>;
}

export const MIN_PEPPER_BYTES = 32;
