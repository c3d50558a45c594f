import type { CallableOptions } from "firebase-functions/https";
import { ENFORCE_APP_CHECK, PSEUDONYM_PEPPER, SALT_ENCRYPTION_KEY } from "../config/params";

/** Options of every callable: the secrets salts need, and App Check when enforced. */
export const callableOptions: CallableOptions = {
  secrets: [PSEUDONYM_PEPPER, SALT_ENCRYPTION_KEY],
  enforceAppCheck: ENFORCE_APP_CHECK,
};

/** Secrets of the workers that read and write salts (task queue, sweep). */
export const saltSecrets = [PSEUDONYM_PEPPER, SALT_ENCRYPTION_KEY];
