import { getApps, initializeApp } from "firebase-admin/app";
import { getAuth, type UserRecord } from "firebase-admin/auth";
import { invalidArgument, notFound, unavailable } from "../domain/errors";
import type { Account, AccountDirectory } from "../ports/accounts";

const accountOf = (u: UserRecord): Account => ({
  uid: u.uid,
  ...(u.email ? { email: u.email } : {}),
  disabled: u.disabled,
  claims: u.customClaims ?? {},
});

class AccountMissing extends Error {}

/** Firebase Auth through the Admin SDK (the Auth emulator when FIREBASE_AUTH_EMULATOR_HOST is set). */
export class FirebaseAccounts implements AccountDirectory {
  private auth() {
    return getAuth(getApps()[0] ?? initializeApp());
  }

  private async ask<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      const code = (e as { code?: string }).code ?? "";
      if (code === "auth/invalid-email")
        throw invalidArgument([{ path: "email", message: "must be an email address" }]);
      if (code === "auth/invalid-uid")
        throw invalidArgument([{ path: "uid", message: "is not a valid Firebase uid" }]);
      if (code === "auth/user-not-found") throw new AccountMissing();
      throw unavailable(`Firebase Auth could not ${what}`, e);
    }
  }

  async find(ref: { uid: string } | { email: string }): Promise<Account | null> {
    const auth = this.auth();
    return this.ask("look the account up", () =>
      "uid" in ref ? auth.getUser(ref.uid) : auth.getUserByEmail(ref.email),
    )
      .then(accountOf)
      .catch((e: unknown) => {
        if (e instanceof AccountMissing) return null;
        throw e;
      });
  }

  async getMany(uids: string[]): Promise<Account[]> {
    if (uids.length === 0) return [];
    const out = await this.ask("look the accounts up", () =>
      this.auth().getUsers(uids.map((uid) => ({ uid }))),
    );
    return out.users.map(accountOf);
  }

  async setClaims(uid: string, claims: Record<string, unknown>): Promise<void> {
    await this.ask("set the account's claims", () => this.auth().setCustomUserClaims(uid, claims)).catch(
      (e: unknown) => {
        throw e instanceof AccountMissing ? notFound(`Account ${uid}`) : e;
      },
    );
  }

  async scan(page: {
    limit: number;
    token?: string | undefined;
  }): Promise<{ accounts: Account[]; next: string | null }> {
    const out = await this.ask("list accounts", () => this.auth().listUsers(page.limit, page.token));
    return { accounts: out.users.map(accountOf), next: out.pageToken ?? null };
  }
}
