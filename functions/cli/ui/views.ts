import type { AuditEntry } from "../../domain/audit";
import type { SaltMetadata } from "../../domain/salt";
import type { Colors } from "./colors";
import { keyValues, plural, relativeTime, when, type Answer, type Column } from "./output";

/** Renderings of the contract's shared types: SaltMetadata, AuditEntry, job progress. */
export type { SaltMetadata } from "../../domain/salt";
export type { AuditEntry } from "../../domain/audit";

const resultColor = (result: AuditEntry["result"] | "denied", c: Colors): string =>
  result === "success" ? c.green(result) : result === "denied" ? c.yellow(result) : c.red(result);

/** A salt's metadata as a key/value block; `extra` rows join it, aligned. */
export function saltBlock(s: SaltMetadata, c: Colors, extra: [string, string][] = []): string {
  return keyValues(
    [
      ["Salt", `${s.kind} ${s.id}`],
      ["Version", `${s.version} (${plural(s.rotation_count, "rotation")})`],
      ["Created", when(s.created_at)],
      ["Last rotated", when(s.last_rotated)],
      ["Next rotation", `${when(s.next_rotation)}${s.due ? ` ${c.yellow("due")}` : ""}`],
      ["Previous hash", s.previous_salt_hash ?? "-"],
      ...extra,
    ],
    c,
  );
}

export const saltColumns: Column<SaltMetadata>[] = [
  { header: "KIND", value: (s) => s.kind },
  { header: "ID", value: (s) => s.id },
  { header: "VERSION", value: (s) => s.version },
  { header: "LAST_ROTATED", value: (s) => s.last_rotated, show: (s) => relativeTime(s.last_rotated) },
  { header: "NEXT_ROTATION", value: (s) => s.next_rotation, show: (s) => relativeTime(s.next_rotation) },
  { header: "DUE", value: (s) => s.due, show: (s, c) => (s.due ? c.yellow("yes") : "no") },
];

/** Listed without a valid chain link under the audit key (the service's `verified: false`). */
const unverified = (e: AuditEntry) => (e as { verified?: boolean }).verified === false;

export const auditColumns: Column<AuditEntry>[] = [
  { header: "AT", value: (e) => e.at, show: (e) => relativeTime(e.at) },
  { header: "OPERATION", value: (e) => e.operation },
  { header: "TARGET", value: (e) => `${e.target.kind}:${e.target.id}` },
  { header: "ACTOR", value: (e) => `${e.actor.uid} (${e.actor.via})` },
  {
    header: "RESULT",
    value: (e) => `${e.result}${unverified(e) ? " UNVERIFIED" : ""}`,
    show: (e, c) => `${resultColor(e.result, c)}${unverified(e) ? ` ${c.red("UNVERIFIED")}` : ""}`,
  },
  { header: "REASON", value: (e) => e.reason ?? "" },
  { header: "CORRELATION_ID", value: (e) => e.correlation_id, show: (e, c) => c.dim(e.correlation_id) },
];

/** The audit log as flat rows (csv, jsonl exports keep every field). */
export const auditCsvColumns: Column<AuditEntry>[] = [
  { header: "id", value: (e) => e.id },
  { header: "at", value: (e) => e.at },
  { header: "actor_uid", value: (e) => e.actor.uid },
  { header: "actor_via", value: (e) => e.actor.via },
  { header: "operation", value: (e) => e.operation },
  { header: "target_kind", value: (e) => e.target.kind },
  { header: "target_id", value: (e) => e.target.id },
  { header: "result", value: (e) => e.result },
  { header: "rotation_id", value: (e) => e.rotation_id },
  { header: "correlation_id", value: (e) => e.correlation_id },
  { header: "reason", value: (e) => e.reason },
  { header: "details", value: (e) => (e.details ? JSON.stringify(e.details) : "") },
  { header: "verified", value: (e) => (e as { verified?: boolean }).verified },
];

const n = (v: unknown): number => (typeof v === "number" ? v : 0);

export function jobBlock(job: Answer, c: Colors): string {
  const state = String(job.state ?? "");
  const colored = state === "done" ? c.green(state) : state === "failed" ? c.red(state) : c.cyan(state);
  const pairs: [string, string][] = [
    ["Job", `${String(job.job_id)}${job.type ? ` (${String(job.type)})` : ""}`],
    ["State", `${colored}${job.error ? ` (${String(job.error)})` : ""}`],
    [
      "Progress",
      `${n(job.processed ?? job.rotated)}/${n(job.total)} done, ${n(job.failed)} failed${job.skipped ? `, ${n(job.skipped)} skipped` : ""}`,
    ],
    ["Started", when(job.started_at as string)],
  ];
  if (job.finished_at) pairs.push(["Finished", when(job.finished_at as string)]);
  if (job.mode) pairs.push(["Mode", String(job.mode)]);
  return keyValues(pairs, c);
}
