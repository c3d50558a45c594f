import type { ActorVia } from "./audit";

/**
 * Roles are Firebase Auth custom claims (`admin: true`, `auditor: true`); every
 * other claim on an account belongs to someone else and is kept as it is.
 */
export const ROLES = ["admin", "auditor"] as const;
export type RoleName = (typeof ROLES)[number];

/** The roles a set of custom claims carries, in ROLES order. */
export const rolesOf = (claims: Record<string, unknown> | null | undefined): RoleName[] =>
  ROLES.filter((r) => claims?.[r] === true);

/** The claims with `role` granted or cleared; nothing else changes. */
export function withRole(
  claims: Record<string, unknown> | null | undefined,
  role: RoleName,
  grant: boolean,
): Record<string, unknown> {
  const next: Record<string, unknown> = { ...claims };
  if (grant) next[role] = true;
  else delete next[role];
  return next;
}

/** Audit entries of role changes go to one chain (the contract fixes the target). */
export const ACCESS_TARGET = { kind: "system", id: "access" } as const;

/**
 * A role change between its two halves (Firebase Auth, then the audited
 * record): kept on the holder's index entry, so a change whose record never
 * committed is found and settled (audited as it turned out) later.
 */
export interface RoleChangeIntent {
  change_id: string;
  uid: string;
  role: RoleName;
  grant: boolean;
  actor: { uid: string; via: ActorVia };
  correlation_id: string;
  reason: string;
  at: Date;
  /** Present when the change ran on approval: who approved it. */
  approval?: { id: string; approved_by: string } | undefined;
}
