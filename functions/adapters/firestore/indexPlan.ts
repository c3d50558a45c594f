/**
 * Firestore caps writes at about 500 per second to a collection whose indexed
 * field increases monotonically (every new entry lands at the same end of the
 * index). Every such field the service writes is listed here with what keeps it
 * inside that limit: `exempt` (no single-field index; queries use composites
 * led by a spreading field), or `low-rate` (written a few times a day).
 * `test/unit/indexes.test.ts` holds this, firestore.indexes.json and the query
 * code to one another.
 */
export const MONOTONIC_FIELDS: Record<string, Record<string, "exempt" | { lowRate: string }>> = {
  salts_user: { created_at: "exempt", last_rotated: "exempt", next_rotation: "exempt", updated_at: "exempt" },
  salts_global: {
    created_at: "exempt",
    last_rotated: "exempt",
    next_rotation: "exempt",
    updated_at: "exempt",
  },
  salt_versions: { created_at: "exempt", retired_at: "exempt", expire_at: "exempt" },
  salts_audit: { at: "exempt" },
  salts_jobs: {
    started_at: {
      lowRate: "one job per rotateDue, rewrap or sweep call: a few a day; the jobs list orders by it",
    },
    heartbeat_at: "exempt",
    finished_at: "exempt",
  },
  shards: { updated_at: "exempt" },
  salts_rate_limits: { expire_at: "exempt" },
  salts_requests: { created_at: "exempt", expire_at: "exempt" },
  salts_audit_once: { at: "exempt", expire_at: "exempt" },
  salts_audit_checkpoints: { at: { lowRate: "one checkpoint per sweep (daily)" } },
  salts_approvals: {
    requested_at: { lowRate: "one per guarded call: a few a day (listings order by document id)" },
    expires_at: { lowRate: "one per guarded call" },
    decided_at: { lowRate: "one per decision" },
  },
  salts_roles: {
    pending_at: { lowRate: "one per role change; the sweep looks for old ones" },
    updated_at: { lowRate: "one per role change or holder found by a scan" },
  },
  // `pending` is the event's seq while unpublished: new salts' events increase with time.
  salts_events: {
    created_at: "exempt",
    published_at: "exempt",
    expire_at: "exempt",
    quarantined_at: "exempt",
    pending: "exempt",
  },
};

/**
 * Fields that spread a composite index's writes: an index starting with one of
 * these puts entries with the same monotonic value in many ranges.
 */
export const SPREADING_FIELDS = ["shard", "target.id", "integrity.chain", "key"];
