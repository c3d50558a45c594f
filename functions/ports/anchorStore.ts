import type { CheckpointSummary } from "../domain/auditLedger";

/**
 * Where the newest checkpoint is anchored outside the database: a write-once
 * object store (a Cloud Storage bucket under a locked retention policy) that a
 * database writer cannot reach. Objects are only ever created; nothing here
 * overwrites or deletes one.
 */
export interface AnchorStore {
  /** Where anchors go (`gs://bucket/prefix`), for logs and status, or null when none is configured. */
  readonly location: string | null;
  /** The anchored checkpoint with the highest sequence number, or null when none is anchored. */
  latest(): Promise<CheckpointSummary | "malformed" | null>;
  /** Anchors `summary` once: an existing anchor of the same checkpoint is left as it is (`created: false`). */
  put(summary: CheckpointSummary): Promise<{ object: string; created: boolean }>;
}

/** No anchor configured: the checkpoint digest goes to the log only. */
export const NO_ANCHOR: AnchorStore = {
  location: null,
  latest: () => Promise.resolve(null),
  put: () => Promise.resolve({ object: "", created: false }),
};
