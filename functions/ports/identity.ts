/** A signed-in caller as Firebase Auth knows them now (not as their ID token said when it was minted). */
export interface Identity {
  disabled: boolean;
  /** Tokens minted before this instant are revoked. */
  validSince: Date | null;
  claims: Record<string, unknown>;
}

/** Looks callers up in Firebase Auth; null when the account no longer exists. */
export interface IdentityProvider {
  lookup(uid: string): Promise<Identity | null>;
}
