/** The first answer to a request id, kept 24 hours so a retry finds it instead of acting again. */
export interface StoredRequest {
  fingerprint: string;
  answer: unknown;
}

/**
 * Idempotency records. Salt changes write theirs in the same commit as the
 * change (see IdempotencyRecord in saltStore); jobs claim theirs with the job
 * record and complete it when the job's first answer is known.
 */
export interface RequestStore {
  get(key: string): Promise<StoredRequest | null>;
  /** Records `answer` unless the key exists; returns what is stored now. */
  claim(key: string, fingerprint: string, answer: unknown): Promise<StoredRequest>;
  /**
   * Keeps `answer` under `key` unless a live record is there, without a transaction (one create; a
   * read only when it lost); returns what is stored now and whether it was this call's. For answers
   * computed before they are kept (a BigQuery batch's replies): a retry, or a duplicate running at
   * the same time, gets the first one kept.
   */
  keep(key: string, fingerprint: string, answer: unknown): Promise<StoredRequest & { first: boolean }>;
  /** Replaces the answer of a claimed key (a job's final answer). */
  complete(key: string, answer: unknown): Promise<void>;
  /** Forgets a claim whose call failed: its first answer was an error, and a retry should run again. */
  release(key: string): Promise<void>;
}

export const REQUEST_TTL_MS = 24 * 60 * 60 * 1000;
