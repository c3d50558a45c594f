import type { CallableRequest } from "firebase-functions/https";
import { SaltServiceError } from "../domain/errors";
import type { IdentityProvider } from "../ports/identity";

export type Role = "admin" | "auditor";

export interface Caller {
  uid: string;
  admin: boolean;
}

/** The signed-in caller's uid, or unauthenticated (no audit entry: nobody to name). */
export function signedIn(request: CallableRequest<unknown>): { uid: string; authTime: number } {
  const auth = request.auth;
  if (!auth) {
    throw new SaltServiceError(
      "unauthenticated",
      "Sign in with an account that has the admin or auditor role",
    );
  }
  return { uid: auth.uid, authTime: Number(auth.token.auth_time ?? 0) };
}

/**
 * Every call asks Firebase Auth about the caller now (one `getUser`): a
 * disabled or deleted account and a token minted before the caller's tokens
 * were revoked are unauthenticated; the roles are the account's current custom
 * claims (`admin` may do everything, `auditor` may read), not what the token
 * carried when it was minted, so a demoted admin is refused at once.
 */
export async function authorize(
  identity: IdentityProvider,
  caller: { uid: string; authTime: number },
  role: Role,
): Promise<Caller> {
  const user = await identity.lookup(caller.uid);
  if (!user || user.disabled) {
    throw new SaltServiceError("unauthenticated", "The account is disabled or no longer exists");
  }
  if (user.validSince && caller.authTime * 1000 < user.validSince.getTime()) {
    throw new SaltServiceError("unauthenticated", "The ID token has been revoked; sign in again");
  }
  const admin = user.claims.admin === true;
  const auditor = user.claims.auditor === true;
  if (!(admin || (role === "auditor" && auditor))) {
    throw new SaltServiceError("permission-denied", `This function requires the ${role} role`);
  }
  return { uid: caller.uid, admin };
}
