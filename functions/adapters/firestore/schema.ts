import { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import type { AuditEntry } from "../../domain/audit";
import { SALT_CIPHER_ALG, type EncryptedSalt } from "../../domain/encryption";
import type { SaltRecord, SaltVersionInfo } from "../../domain/salt";

export const COLLECTIONS = {
  user: "salts_user",
  global: "salts_global",
  versions: "salt_versions",
  audit: "salts_audit",
  meta: "salts_meta",
  jobs: "salts_jobs",
  shards: "shards",
  rateLimits: "salts_rate_limits",
  metrics: "salts_metrics",
} as const;

/** Storage is parsed, not trusted: a malformed document is an error, not a guess. */
const timestamp = z.instanceof(Timestamp).transform((t) => t.toDate());
const bytes = z.instanceof(Uint8Array).transform((b) => Buffer.from(b));
const kind = z.enum(["user", "global"]);

export const encryptedSaltSchema = z.object({
  alg: z.literal(SALT_CIPHER_ALG),
  key_id: z.string().min(1),
  iv: bytes,
  ct: bytes,
  tag: bytes,
});

export const saltDocSchema = z.object({
  kind,
  id: z.string().min(1),
  version: z.number().int().min(1),
  created_at: timestamp,
  last_rotated: timestamp,
  rotation_count: z.number().int().min(0),
  next_rotation: timestamp,
  previous_salt_hash: z.string().nullable(),
  salt_hash: z.string().length(16),
  last_rotation_id: z.string().nullable().default(null),
  salt: encryptedSaltSchema,
});

export const versionDocSchema = z.object({
  version: z.number().int().min(1),
  created_at: timestamp,
  retired_at: timestamp,
  salt_hash_prefix: z.string().length(16),
  expire_at: timestamp,
  salt: encryptedSaltSchema,
});

export const auditDocSchema = z.object({
  id: z.string(),
  at: timestamp,
  actor: z.object({ uid: z.string(), via: z.enum(["callable", "scheduler", "task", "cli"]) }),
  operation: z.string(),
  target: z.object({ kind: z.enum(["user", "global", "job", "config", "system"]), id: z.string() }),
  result: z.enum(["success", "error"]),
  rotation_id: z.string().optional(),
  correlation_id: z.string(),
  reason: z.string().optional(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});

/** The metadata fields of a salt document: what listings read (never the ciphertext). */
export const RECORD_FIELDS = [
  "kind",
  "id",
  "version",
  "created_at",
  "last_rotated",
  "rotation_count",
  "next_rotation",
  "previous_salt_hash",
  "salt_hash",
  "last_rotation_id",
] as const;
const recordSchema = saltDocSchema.omit({ salt: true });

export function parseSaltRecord(data: unknown): SaltRecord {
  return recordSchema.parse(data);
}

export function parseSaltDoc(data: unknown): { record: SaltRecord; enc: EncryptedSalt } {
  const { salt, ...record } = saltDocSchema.parse(data);
  return { record, enc: salt };
}

export function saltDocData(record: SaltRecord, enc: EncryptedSalt, now: Date): Record<string, unknown> {
  return {
    ...record,
    created_at: Timestamp.fromDate(record.created_at),
    last_rotated: Timestamp.fromDate(record.last_rotated),
    next_rotation: Timestamp.fromDate(record.next_rotation),
    salt: enc,
    updated_at: Timestamp.fromDate(now),
  };
}

export function versionDocData(
  info: SaltVersionInfo,
  enc: EncryptedSalt,
  expiresAt: Date,
): Record<string, unknown> {
  return {
    version: info.version,
    created_at: Timestamp.fromDate(info.created_at),
    retired_at: Timestamp.fromDate(info.retired_at),
    salt_hash_prefix: info.salt_hash_prefix,
    // Firestore's TTL policy deletes the document after this instant (see firestore.indexes.json).
    expire_at: Timestamp.fromDate(expiresAt),
    salt: enc,
  };
}

export function auditDocData(entry: AuditEntry): Record<string, unknown> {
  const data: Record<string, unknown> = { ...entry, at: Timestamp.fromDate(new Date(entry.at)) };
  for (const k of Object.keys(data)) if (data[k] === undefined) delete data[k];
  return data;
}

export function parseAuditDoc(data: unknown): AuditEntry {
  const parsed = auditDocSchema.parse(data);
  const entry: AuditEntry = { ...parsed, at: parsed.at.toISOString() };
  for (const k of ["rotation_id", "reason", "details"] as const) if (entry[k] === undefined) delete entry[k];
  return entry;
}

const days = z.number().int().min(1).max(3650);
export const settingsSchema = z
  .object({
    pending: z.object({ user_days: days.optional(), global_days: days.optional() }).nullable().optional(),
    active: z.object({ user_days: days, global_days: days, reloaded_at: timestamp }).nullable().optional(),
  })
  .transform((s) => ({ pending: s.pending ?? null, active: s.active ?? null }));
