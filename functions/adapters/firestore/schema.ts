import { Timestamp, type DocumentData } from "firebase-admin/firestore";
import { z } from "zod";
import type { AuditEntry } from "../../domain/audit";
import type { SealedHead } from "../../domain/auditChain";
import { SALT_CIPHER_ALG, type EncryptedSalt } from "../../domain/encryption";
import type { SaltKind } from "../../domain/ids";
import type { SaltRecord, SaltVersionInfo } from "../../domain/salt";

export const COLLECTIONS = {
  user: "salts_user",
  global: "salts_global",
  versions: "salt_versions",
  audit: "salts_audit",
  chains: "salts_audit_chains",
  checkpoints: "salts_audit_checkpoints",
  /** Incarnations of salts that were erased, by salt document: a restored copy of one is refused. */
  erased: "salts_erased",
  meta: "salts_meta",
  jobs: "salts_jobs",
  shards: "shards",
  requests: "salts_requests",
  rateLimits: "salts_rate_limits",
  metrics: "salts_metrics",
  /** Markers of entries written once per key (a BigQuery job and session user), committed with the entry. */
  auditOnce: "salts_audit_once",
  events: "salts_events",
  scopes: "salts_scopes",
} as const;

/** Storage is parsed, not trusted: a malformed document is an error, not a guess. */
const timestamp = z.instanceof(Timestamp).transform((t) => t.toDate());
const bytes = z.instanceof(Uint8Array).transform((b): Buffer => Buffer.from(b));
const kind = z.enum(["user", "global"]);
const head = z.object({
  seq: z.number().int().min(1),
  mac: z.string().min(1),
  key_version: z.number().int().min(1).optional(),
  auth: z.string().optional(),
});

export const encryptedSaltSchema = z.object({
  alg: z.literal(SALT_CIPHER_ALG),
  key_id: z.string().min(1),
  // Ciphertexts written before key versions were recorded name none: 0, found by key id (legacyKeyVersion).
  key_version: z.number().int().min(0).default(0),
  iv: bytes,
  ct: bytes,
  tag: bytes,
  aad_version: z.literal(2).optional(),
});

const recordShape = {
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
};

export const saltDocSchema = z.object({
  ...recordShape,
  salt: encryptedSaltSchema,
  shred: encryptedSaltSchema.nullable().default(null),
  key_versions: z.array(z.number().int().min(1)).default([]),
  // Salts written before audit chains existed start a chain at their next change.
  chain: z
    .object({ id: z.string().min(1), head: head.nullable() })
    .nullable()
    .default(null),
  last_rewrap_id: z.string().nullable().default(null),
});

export type SaltDoc = z.output<typeof saltDocSchema>;

export const versionDocSchema = z.object({
  version: z.number().int().min(1),
  created_at: timestamp,
  retired_at: timestamp,
  salt_hash_prefix: z.string().length(16),
  expire_at: timestamp,
  salt: encryptedSaltSchema,
});

export const chainDocSchema = z.object({ chain: z.string().min(1), head });

const link = z.object({
  chain: z.string(),
  seq: z.number().int().min(1),
  prev: z.string().nullable(),
  key_version: z.number().int().min(1),
  mac: z.string(),
});

export const auditDocSchema = z.object({
  id: z.string(),
  at: timestamp,
  actor: z.object({ uid: z.string(), via: z.enum(["callable", "scheduler", "task", "cli", "bigquery"]) }),
  operation: z.string(),
  target: z.object({ kind: z.enum(["user", "global", "job", "config", "system", "scope"]), id: z.string() }),
  result: z.enum(["success", "error", "denied"]),
  rotation_id: z.string().optional(),
  correlation_id: z.string(),
  reason: z.string().optional(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  integrity: link.optional(),
});

/** The metadata fields of a salt document: what listings read (never the ciphertext). */
export const RECORD_FIELDS = Object.keys(recordShape);
const recordSchema = z.object(recordShape);

export function parseSaltRecord(data: unknown): SaltRecord {
  return recordSchema.parse(data);
}

export function parseSaltDoc(data: unknown): { record: SaltRecord } & Omit<SaltDoc, keyof SaltRecord> {
  const { salt, shred, key_versions, chain, last_rewrap_id, ...record } = saltDocSchema.parse(data);
  return { record, salt, shred, key_versions, chain, last_rewrap_id };
}

/** Every field of a salt document; `shard` places it in its index shard (see domain/ids). */
export function saltDocData(
  record: SaltRecord,
  parts: {
    salt: EncryptedSalt;
    shred: EncryptedSalt | null;
    keyVersions: number[];
    chain: { id: string; head: SealedHead | null };
    shard: number;
    lastRewrapId?: string | null;
  },
  now: Date,
): Record<string, unknown> {
  return {
    ...record,
    created_at: Timestamp.fromDate(record.created_at),
    last_rotated: Timestamp.fromDate(record.last_rotated),
    next_rotation: Timestamp.fromDate(record.next_rotation),
    salt: parts.salt,
    shred: parts.shred,
    key_versions: parts.keyVersions,
    chain: parts.chain,
    shard: parts.shard,
    last_rewrap_id: parts.lastRewrapId ?? null,
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

export function auditDocData(entry: AuditEntry, shard: number): Record<string, unknown> {
  const data: Record<string, unknown> = { ...entry, at: Timestamp.fromDate(new Date(entry.at)), shard };
  for (const k of Object.keys(data)) if (data[k] === undefined) delete data[k];
  return data;
}

/**
 * An entry as stored under document `docId`, or null when the document is not a
 * well-formed entry. Its `id` is the document's: a copy stored under another id
 * keeps the mac of the original, which then does not check.
 */
export function parseAuditDoc(docId: string, data: unknown): AuditEntry | null {
  const parsed = auditDocSchema.safeParse(data);
  if (!parsed.success) return null;
  const entry: AuditEntry = { ...parsed.data, id: docId, at: parsed.data.at.toISOString() };
  for (const k of ["rotation_id", "reason", "details", "integrity"] as const) {
    if (entry[k] === undefined) delete entry[k];
  }
  return entry;
}

const days = z.number().int().min(1).max(3650);
export const settingsSchema = z
  .object({
    pending: z.object({ user_days: days.optional(), global_days: days.optional() }).nullable().optional(),
    active: z.object({ user_days: days, global_days: days, reloaded_at: timestamp }).nullable().optional(),
  })
  .transform((s) => ({ pending: s.pending ?? null, active: s.active ?? null }));

/**
 * A salt document written before shards, key versions, audit chains, shred
 * secrets or incarnation-bound ciphertexts existed.
 */
export function isLegacySalt(kind: SaltKind, data: DocumentData): boolean {
  return (
    typeof data.shard !== "number" ||
    !Array.isArray(data.key_versions) ||
    !data.chain ||
    !data.salt?.key_version ||
    data.salt?.aad_version !== 2 ||
    (kind === "user" && !data.shred) ||
    (data.shred && data.shred.aad_version !== 2)
  );
}
