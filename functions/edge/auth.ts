import { getAuth } from "firebase-admin/auth";
import type { CallableRequest } from "firebase-functions/https";
import { SaltServiceError, unavailable } from "../domain/errors";

export type Role = "admin" | "auditor";

export interface Caller {
  uid: string;
  admin: boolean;
}

const bearer = (header: string | undefined): string | null => {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return m?.[1] ?? null;
};

/**
 * Roles are custom claims: `admin` may do everything, `auditor` may read.
 * Mutations re-verify the ID token against Firebase Auth with revocation
 * checking, so a revoked or disabled admin is refused at once.
 */
export async function authorize(
  request: CallableRequest<unknown>,
  role: Role,
  mutating: boolean,
): Promise<Caller> {
  const auth = request.auth;
  if (!auth)
    throw new SaltServiceError(
      "unauthenticated",
      "Sign in with an account that has the admin or auditor role",
    );
  const admin = auth.token.admin === true;
  const auditor = auth.token.auditor === true;
  if (!(admin || (role === "auditor" && auditor))) {
    throw new SaltServiceError("permission-denied", `This function requires the ${role} role`);
  }
  if (mutating) {
    const token = bearer(request.rawRequest.headers.authorization);
    if (!token) throw new SaltServiceError("unauthenticated", "No ID token was presented");
    try {
      await getAuth().verifyIdToken(token, true);
    } catch (e) {
      const code = (e as { code?: string }).code ?? "";
      if (/revoked|disabled|expired|argument-error|invalid|user-not-found/.test(code)) {
        throw new SaltServiceError("unauthenticated", "The ID token has been revoked or is no longer valid");
      }
      throw unavailable("Firebase Auth could not check the ID token", e);
    }
  }
  return { uid: auth.uid, admin };
}
