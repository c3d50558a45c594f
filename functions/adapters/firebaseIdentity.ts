import { getApps, initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { unavailable } from "../domain/errors";
import type { Identity, IdentityProvider } from "../ports/identity";

/** Firebase Auth through the Admin SDK: one `getUser` per call (revocation, disabled, current claims). */
export class FirebaseIdentity implements IdentityProvider {
  async lookup(uid: string): Promise<Identity | null> {
    try {
      const user = await getAuth(getApps()[0] ?? initializeApp()).getUser(uid);
      return {
        disabled: user.disabled,
        validSince: user.tokensValidAfterTime ? new Date(user.tokensValidAfterTime) : null,
        claims: user.customClaims ?? {},
      };
    } catch (e) {
      if ((e as { code?: string }).code === "auth/user-not-found") return null;
      throw unavailable("Firebase Auth could not be asked about the caller", e);
    }
  }
}

/** Fixed identities (the memory backend, tests): everyone is as their claims say and nobody is revoked. */
export class StaticIdentity implements IdentityProvider {
  constructor(private readonly users: Map<string, Identity> = new Map()) {}

  set(uid: string, identity: Identity): void {
    this.users.set(uid, identity);
  }

  async lookup(uid: string): Promise<Identity | null> {
    await Promise.resolve();
    return this.users.get(uid) ?? null;
  }
}
