/**
 * Settings of the audit trail's checks and of the controls around refusals and dual control, spread into
 * SETTINGS (settings.ts).
 */
import { int, type Setting } from "./settingTypes";

export const CONTROL_SETTINGS = {
  deniedAuditPerMinute: int(
    "DENIED_AUDIT_PER_MINUTE",
    10,
    1,
    10_000,
    "Refused calls audited per caller per minute, spent before the budget all callers share (20 times it); " +
      "beyond it they are counted, across instances, into the caller's next entry.",
  ),
  auditVerifyPerSweep: int(
    "AUDIT_VERIFY_PER_SWEEP",
    20_000,
    0,
    10_000_000,
    "Audit entries each sweep verifies, continuing where the last one stopped (the whole trail, over several sweeps).",
  ),
  checkpointVerifyPerSweep: int(
    "CHECKPOINT_VERIFY_PER_SWEEP",
    20_000,
    0,
    10_000_000,
    "Chain heads of the previous checkpoint each sweep checks against the trail now (truncated or rewritten chains).",
  ),
  approvalTtlHours: int(
    "APPROVAL_TTL_HOURS",
    24,
    1,
    720,
    "Hours a request to a guarded operation waits for a second admin's decision before it expires.",
  ),
  anchorBucket: {
    env: "AUDIT_ANCHOR_BUCKET",
    type: "string",
    default: null,
    pattern: /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](\/[A-Za-z0-9._-]+)*$/,
    scope: "env",
    description: "Bucket (or `bucket/prefix`) anchoring audit checkpoints, write-once (see Operations).",
  },
} as const satisfies Record<string, Setting>;
