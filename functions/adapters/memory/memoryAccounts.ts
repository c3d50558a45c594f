import { invalidArgument } from "../../domain/errors";
import type { Account, AccountDirectory } from "../../ports/accounts";
import type { Identity, IdentityProvider } from "../../ports/identity";

/**
 * Accounts held in memory (unit tests, demos without an Auth emulator): one
 * source for both who callers are and what the access use cases change.
 */
export class MemoryAccounts implements AccountDirectory, IdentityProvider {
  private readonly accounts = new Map<string, Account>();

  add(account: { uid: string; email?: string; disabled?: boolean; claims?: Record<string, unknown> }): void {
    this.accounts.set(account.uid, {
      uid: account.uid,
      ...(account.email ? { email: account.email } : {}),
      disabled: account.disabled ?? false,
      claims: { ...account.claims },
    });
  }

  async lookup(uid: string): Promise<Identity | null> {
    await Promise.resolve();
    const a = this.accounts.get(uid);
    return a ? { disabled: a.disabled, validSince: null, claims: { ...a.claims } } : null;
  }

  async find(ref: { uid: string } | { email: string }): Promise<Account | null> {
    await Promise.resolve();
    if ("uid" in ref) return this.copy(this.accounts.get(ref.uid));
    if (!/^[^@\s]+@[^@\s]+$/.test(ref.email))
      throw invalidArgument([{ path: "email", message: "must be an email address" }]);
    return this.copy(
      [...this.accounts.values()].find((a) => a.email?.toLowerCase() === ref.email.toLowerCase()),
    );
  }

  async getMany(uids: string[]): Promise<Account[]> {
    await Promise.resolve();
    return uids.flatMap((u) => {
      const a = this.copy(this.accounts.get(u));
      return a ? [a] : [];
    });
  }

  async setClaims(uid: string, claims: Record<string, unknown>): Promise<void> {
    await Promise.resolve();
    const a = this.accounts.get(uid);
    if (a) a.claims = { ...claims };
  }

  async scan(page: {
    limit: number;
    token?: string | undefined;
  }): Promise<{ accounts: Account[]; next: string | null }> {
    await Promise.resolve();
    const all = [...this.accounts.values()].sort((a, b) => (a.uid < b.uid ? -1 : 1));
    const from = page.token ? all.findIndex((a) => a.uid > page.token!) : 0;
    const slice = from < 0 ? [] : all.slice(from, from + page.limit);
    const more = from >= 0 && from + page.limit < all.length;
    return { accounts: slice.map((a) => this.copy(a)!), next: more ? slice.at(-1)!.uid : null };
  }

  private copy(a: Account | undefined): Account | null {
    return a ? structuredClone(a) : null;
  }
}
