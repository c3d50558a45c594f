import type { RoleChangeIntent, RoleName } from "../domain/access";
import type { AuditDraft } from "../domain/audit";
import type { Page } from "../domain/paging";
import type { RequestRecord } from "./approvals";
import type { Replayed } from "./saltStore";

/** A Firebase Auth account as it is now. */
export interface Account {
  uid: string;
  email?: string | undefined;
  disabled: boolean;
  claims: Record<string, unknown>;
}

/** Firebase Auth accounts: looked up, their custom claims set, and paged through. */
export interface AccountDirectory {
  find(ref: { uid: string } | { email: string }): Promise<Account | null>;
  /** At most 100 uids; accounts that no longer exist are left out. */
  getMany(uids: string[]): Promise<Account[]>;
  /** Replaces the account's custom claims (callers keep what they do not change). */
  setClaims(uid: string, claims: Record<string, unknown>): Promise<void>;
  /** One page of every account, in Firebase Auth's order. */
  scan(page: {
    limit: number;
    token?: string | undefined;
  }): Promise<{ accounts: Account[]; next: string | null }>;
}

/** One entry of the role index: an account believed to hold a role, and a change in flight. */
export interface RoleIndexEntry {
  uid: string;
  roles: RoleName[];
  pending: RoleChangeIntent | null;
}

export interface RoleScanState {
  /** When a pass over every account last finished: holders granted outside the service since may be missing. */
  reconciled_at: Date | null;
  /** A pass in progress: where it goes on, and when it began. */
  scan: { token: string; started_at: Date } | null;
}

/**
 * The index of role holders, so listing them costs a page of the index rather
 * than a pass over every account of the project. Listings check each entry
 * against Firebase Auth; passes over Auth (the sweep, `salts-roles {scan}`)
 * add holders whose claims were set outside the service.
 */
export interface RoleIndex {
  /** Notes a change before Firebase Auth is touched (the entry is created if missing). */
  beginChange(intent: RoleChangeIntent): Promise<void>;
  /**
   * Commits the audit entry of a change, the holder's roles as Auth now has them
   * and the request record together, and clears the intent if it is still this change.
   */
  completeChange(
    intent: RoleChangeIntent,
    roles: RoleName[],
    draft: AuditDraft,
    request?: RequestRecord,
  ): Promise<{ status: "recorded" } | Replayed>;
  /** Audits a change found unfinished (as it turned out) and clears its intent. */
  settle(intent: RoleChangeIntent, roles: RoleName[], draft: AuditDraft): Promise<void>;
  list(page: {
    limit: number;
    cursor?: string | undefined;
    role?: RoleName | undefined;
  }): Promise<Page<RoleIndexEntry>>;
  /** Records holders as Auth has them (scans, listings); entries with no role left go, unless a change is pending. */
  put(holders: { uid: string; roles: RoleName[] }[]): Promise<void>;
  /** Changes noted before `before` that never completed. */
  staleIntents(before: Date, limit: number): Promise<RoleChangeIntent[]>;
  readScanState(): Promise<RoleScanState>;
  writeScanState(state: RoleScanState): Promise<void>;
}
