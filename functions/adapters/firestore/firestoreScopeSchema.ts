import { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import type { EncryptedSalt } from "../../domain/encryption";
import type { ScopeRecord } from "../../domain/scope";
import { encryptedSaltSchema } from "./schema";

const timestamp = z.instanceof(Timestamp).transform((t) => t.toDate());
const recordShape = {
  scope_id: z.string().min(1),
  description: z.string(),
  rotation_days: z.number().int().min(1),
  consumers: z.array(z.string()),
  version: z.number().int().min(1),
  created_at: timestamp,
  last_rotated: timestamp,
  rotation_count: z.number().int().min(0),
  next_rotation: timestamp,
  last_rotation_id: z.string().nullable(),
};
const retainedSchema = z.object({
  version: z.number().int().min(1),
  created_at: timestamp,
  retired_at: timestamp,
  expire_at: timestamp,
  secret: encryptedSaltSchema,
});
/** `salts_scopes/{encoded scope id}`: parsed, not trusted, like every document read. */
export const scopeDocSchema = z.object({
  ...recordShape,
  secret: encryptedSaltSchema,
  retained: z.array(retainedSchema),
});
export type ScopeDoc = z.output<typeof scopeDocSchema>;
export const RECORD_FIELDS = Object.keys(recordShape);
export const recordSchema = z.object(recordShape);

export function parseDoc(data: unknown): { record: ScopeRecord; doc: ScopeDoc } {
  const doc = scopeDocSchema.parse(data);
  const { secret: _s, retained: _r, ...record } = doc;
  return { record, doc };
}

export const ts = (d: Date) => Timestamp.fromDate(d);

export function docData(
  record: ScopeRecord,
  secret: EncryptedSalt,
  retained: ScopeDoc["retained"],
  now: Date,
): Record<string, unknown> {
  return {
    ...record,
    consumers: [...record.consumers],
    created_at: ts(record.created_at),
    last_rotated: ts(record.last_rotated),
    next_rotation: ts(record.next_rotation),
    secret,
    retained: retained.map((r) => ({
      ...r,
      created_at: ts(r.created_at),
      retired_at: ts(r.retired_at),
      expire_at: ts(r.expire_at),
    })),
    key_versions: [...new Set([secret.key_version, ...retained.map((r) => r.secret.key_version)])].sort(
      (a, b) => a - b,
    ),
    updated_at: ts(now),
  };
}
