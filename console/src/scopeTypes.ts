/** Wire types of the subject access report and the scope callables (issue 21). */
import type { AuditEntry, Correlated, SaltMetadata } from "./types";

export type ReportValue = string | number | boolean;

export interface SubjectReportResponse extends Correlated {
  user_id: string;
  state: "active" | "erased" | "unknown";
  salt?: SaltMetadata;
  versions: {
    version: number;
    created_at: string;
    retired_at?: string;
    pseudonyms: Record<string, string>;
  }[];
  globals: { event_type: string; version: number; pseudonyms: Record<string, string> }[];
  erased_at?: string;
  audit: AuditEntry[];
  audit_truncated?: boolean;
  pepper_version?: number;
  generated_at: string;
}

export interface ScopeMetadata {
  scope_id: string;
  description: string;
  rotation_days: number;
  version: number;
  created_at?: string;
  last_rotated: string;
  rotation_count?: number;
  next_rotation: string;
  due?: boolean;
  consumers: string[];
}

export interface ScopesResponse extends Correlated {
  scopes: ScopeMetadata[];
  next_cursor: string | null;
}

export interface PutScopeResponse extends Correlated {
  scope: ScopeMetadata;
  created?: boolean;
}

export interface RotateScopeResponse extends Correlated {
  scope: ScopeMetadata;
  rotation_id: string;
}
