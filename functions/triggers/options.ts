import type { CallableOptions } from "firebase-functions/https";
import { AUDIT_KEY, ENFORCE_APP_CHECK, PSEUDONYM_PEPPER, SALT_ENCRYPTION_KEY } from "../config/params";
import { readConfig } from "../config/config";
import type { SecretNeed } from "../edge/callable";

const BY_NEED = { pepper: PSEUDONYM_PEPPER, key: SALT_ENCRYPTION_KEY } as const;

/**
 * Options of a callable: only the secrets its operation uses (least privilege;
 * every callable may write an audit entry, so every one has the audit key), and
 * App Check when enforced.
 */
export function callableOptions(needs: readonly SecretNeed[]): CallableOptions {
  return {
    secrets: [AUDIT_KEY, ...needs.map((n) => BY_NEED[n])],
    enforceAppCheck: ENFORCE_APP_CHECK,
    ...runAs(deployed.serviceAccount),
  };
}

/** Read when the code loads: firebase-tools loads `.env` files before that at deploy. */
export const deployed = readConfig();

/** The service account a function runs as, when one is configured (see README, Operations). */
export const runAs = (account: string | null) => (account ? { serviceAccount: account } : {});

/** Secrets of the workers that read and write salts (task queue, sweep): no pepper. */
export const workerSecrets = [SALT_ENCRYPTION_KEY, AUDIT_KEY];
