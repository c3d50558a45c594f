import type { SaltsApi } from "./api";
import type { ConsoleConfig } from "./config";

export interface Roles {
  admin: boolean;
  auditor: boolean;
}

/** What every page gets from the shell. Roles come from the ID token; the server still enforces them. */
export interface ConsoleContext {
  api: SaltsApi;
  roles: Roles;
  email: string;
  /** The signed-in account's uid (who asked for an approval is named by uid). */
  uid: string;
  config: ConsoleConfig;
  navigate(path: string): void;
}

/** Admins can read too; auditors only read. */
export const canMutate = (ctx: ConsoleContext): boolean => ctx.roles.admin;
